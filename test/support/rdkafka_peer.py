"""
librdkafka as a Kafka peer, through PyPI's confluent-kafka, for machines without kcat.

It takes the part of kcat's command line the tests use and does what kcat does with it, so a
test runs the same command and checks the same bytes either way:

  -P -b BROKERS -t TOPIC [-p PARTITION] [-K DELIM] [-H name=value ...] [-X prop=value ...]
      one record per line of stdin (the newline is not part of it); with -K, the line up to the
      first DELIM is the key and the rest the value (no DELIM: the whole line is the value, no key);
      librdkafka's default partitioner, as kcat; exits non-zero if any record fails.
  -C -b BROKERS -t TOPIC [-p PARTITION] [-o beginning|end|OFFSET] [-e] [-c COUNT] [-q] [-f FORMAT] [-X prop=value ...]
      reads every partition (or one) without a group, printing each record with FORMAT (kcat's
      %s value, %k key, %p partition, %o offset, %t topic, %h headers, %S value size, %%, and the
      escapes \\n \\t \\\\); default '%s\\n'; -e exits once every partition is at its end.

Anything else fails loudly, rather than doing something kcat would not.
"""

import sys
import uuid

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, Producer, TopicPartition


def fail(message):
    sys.stderr.write(f"rdkafka_peer: {message}\n")
    sys.exit(2)


def parse(argv):
    opts = {"mode": None, "brokers": None, "topic": None, "partition": None, "key_delim": None,
            "headers": [], "config": {}, "offset": "beginning", "exit_at_end": False, "count": None,
            "format": "%s\\n"}
    with_value = {"-b", "-t", "-p", "-K", "-H", "-X", "-o", "-c", "-f"}
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag in ("-P", "-C"):
            opts["mode"] = flag
        elif flag == "-e":
            opts["exit_at_end"] = True
        elif flag == "-q":
            pass  # kcat's quiet: this peer says nothing on stderr unless something fails
        elif flag in with_value:
            if i + 1 >= len(argv):
                fail(f"{flag} needs a value")
            value = argv[i + 1]
            i += 1
            if flag == "-b":
                opts["brokers"] = value
            elif flag == "-t":
                opts["topic"] = value
            elif flag == "-p":
                opts["partition"] = int(value)
            elif flag == "-K":
                opts["key_delim"] = value.encode()
            elif flag == "-H":
                name, sep, header_value = value.partition("=")
                if not sep:
                    fail(f"-H wants name=value, got {value!r}")
                opts["headers"].append((name, header_value.encode()))
            elif flag == "-X":
                name, sep, prop = value.partition("=")
                if not sep:
                    fail(f"-X wants property=value, got {value!r}")
                opts["config"][name] = prop
            elif flag == "-o":
                opts["offset"] = value
            elif flag == "-c":
                opts["count"] = int(value)
            elif flag == "-f":
                opts["format"] = value
        else:
            fail(f"unsupported option {flag!r} (this peer does only what the tests ask of kcat)")
        i += 1
    if opts["mode"] is None or not opts["brokers"] or not opts["topic"]:
        fail("usage: -P|-C -b BROKERS -t TOPIC ...")
    return opts


def produce(opts):
    producer = Producer({"bootstrap.servers": opts["brokers"], **opts["config"]})
    failures = []

    def delivered(err, _msg):
        if err is not None:
            failures.append(str(err))

    data = sys.stdin.buffer.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline ends the last record; it does not start an empty one
    for line in lines:
        key, value = None, line
        if opts["key_delim"] is not None and opts["key_delim"] in line:
            key, _, value = line.partition(opts["key_delim"])
        kwargs = {"key": key, "value": value, "on_delivery": delivered}
        if opts["partition"] is not None:
            kwargs["partition"] = opts["partition"]
        if opts["headers"]:
            kwargs["headers"] = opts["headers"]
        while True:
            try:
                producer.produce(opts["topic"], **kwargs)
                break
            except BufferError:
                producer.poll(0.1)  # local queue full: let deliveries drain it
    remaining = producer.flush(60)
    if remaining or failures:
        fail(f"{len(failures)} record(s) failed, {remaining} undelivered: {'; '.join(failures[:3])}")


def unescape(fmt):
    return fmt.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")


def render(fmt, msg):
    out = bytearray()
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            i += 2
            if code == "s":
                out += msg.value() or b""
            elif code == "k":
                out += msg.key() or b""
            elif code == "p":
                out += str(msg.partition()).encode()
            elif code == "o":
                out += str(msg.offset()).encode()
            elif code == "t":
                out += msg.topic().encode()
            elif code == "S":
                out += str(len(msg.value() or b"")).encode()
            elif code == "h":
                out += b",".join(n.encode() + b"=" + (v or b"") for n, v in (msg.headers() or []))
            elif code == "%":
                out += b"%"
            else:
                fail(f"unsupported format %{code}")
        else:
            out += ch.encode()
            i += 1
    return bytes(out)


def start_offset(spec):
    if spec == "beginning":
        return OFFSET_BEGINNING
    if spec == "end":
        return OFFSET_END
    if spec.lstrip("-").isdigit():
        return int(spec)
    fail(f"unsupported offset {spec!r}")


def consume(opts):
    consumer = Consumer({
        "bootstrap.servers": opts["brokers"],
        # Assigned partitions, no subscription: the group id is never joined, nothing is committed.
        "group.id": f"rdkafka-peer-{uuid.uuid4()}",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        **opts["config"],
    })
    try:
        topic = consumer.list_topics(opts["topic"], timeout=30).topics.get(opts["topic"])
        if topic is None or topic.error is not None:
            fail(f"topic {opts['topic']}: {topic.error if topic else 'not found'}")
        partitions = [opts["partition"]] if opts["partition"] is not None else sorted(topic.partitions)
        offset = start_offset(opts["offset"])
        consumer.assign([TopicPartition(opts["topic"], p, offset) for p in partitions])
        fmt = unescape(opts["format"])
        at_end = set()
        printed = 0
        out = sys.stdout.buffer
        while True:
            if opts["count"] is not None and printed >= opts["count"]:
                break
            if opts["exit_at_end"] and at_end >= set(partitions):
                break
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                    continue
                fail(str(msg.error()))
            at_end.discard(msg.partition())
            out.write(render(fmt, msg))
            printed += 1
        out.flush()
    finally:
        consumer.close()


def main():
    opts = parse(sys.argv[1:])
    if opts["mode"] == "-P":
        produce(opts)
    else:
        consume(opts)


if __name__ == "__main__":
    main()
