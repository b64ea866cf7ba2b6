/**
 * cdk-nag's AwsSolutions pack over the stack, as every `cdk synth` runs it (bin/app.ts): no
 * finding left unacknowledged, in the default setup and with every optional part on; and every
 * acknowledgment carries its reason.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Validations } from 'aws-cdk-lib'
import * as ec2 from 'aws-cdk-lib/aws-ec2'
import type { LagscaleStack } from '../lib/lagscale-stack.ts'
import { nagFindings, synth } from './synth.ts'

describe('cdk-nag AwsSolutions', () => {
  test('the default stacks (images, deploy role, the system): zero unacknowledged findings', () => {
    assert.equal(nagFindings(), '')
  })

  test('client host with SSH and the lagscale autoscaler: zero unacknowledged findings', () => {
    assert.equal(
      nagFindings({ clientHost: { enabled: true, sshCidr: '203.0.113.7/32' }, consumerScaling: { mode: 'lagscale' } }),
      ''
    )
  })

  test('the checks do run: an SSH port open to the internet fails the synth', () => {
    const findings = nagFindings({}, (stack) => {
      const open = new ec2.SecurityGroup(stack, 'WideOpen', { vpc: (stack as LagscaleStack).network.vpc })
      open.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22))
    })
    assert.match(findings, /Validation failed/)
    assert.match(findings, /AwsSolutions-EC23/)
  })

  test('every acknowledgment names its rule and gives a reason of a sentence or more', () => {
    const { stack } = synth({ clientHost: { enabled: true }, consumerScaling: { mode: 'lagscale' } })
    const acks = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason })))
      .filter((a) => a.id.startsWith('AwsSolutions::'))
    assert.ok(acks.length >= 8, `acknowledgments found: ${acks.length}`)
    for (const a of acks) {
      assert.match(a.id, /^AwsSolutions::AwsSolutions-[A-Z]+\d+/, a.id)
      assert.ok(a.reason.length >= 40 && /\s/.test(a.reason), `${a.id}: a reason, not a placeholder: ${a.reason}`)
    }
  })
})
