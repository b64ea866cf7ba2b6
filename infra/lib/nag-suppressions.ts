import { Stack, Validations } from 'aws-cdk-lib'
import type { IConstruct } from 'constructs'

/** How cdk-nag names a value in a finding id: strings as they are, {Ref: X} as <X>, other intrinsics as JSON. */
function nagText(stack: Stack, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>
      if (typeof o['Ref'] === 'string') return `<${o['Ref']}>`
      const join = o['Fn::Join'] as [string, unknown[]] | undefined
      if (join) return join[1].map(render).join(join[0])
    }
    return JSON.stringify(v)
  }
  return render(stack.resolve(value))
}

/**
 * Acknowledges one cdk-nag AwsSolutions finding on a construct, with the reason. Every finding
 * not acknowledged here fails the synth (bin/app.ts) and the tests (infra/test/nag.test.ts).
 */
export function acknowledge(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason })
}

/** Acknowledges a wildcard resource (IAM5) by the ARN as the stack renders it. */
export function acknowledgeWildcardResource(scope: IConstruct, arn: string, reason: string): void {
  acknowledge(scope, `IAM5[Resource::${nagText(Stack.of(scope), arn)}]`, reason)
}

/** S4's wildcards: topic and group names are the application's own, under this cluster only. */
export function acknowledgeClientPolicy(policy: IConstruct, topicArns: string, groupArns: string): void {
  const stack = Stack.of(policy)
  const reason =
    "Seed S4's client policy: the application creates its own topics and groups, so their names are not known " +
    "ahead; the ARNs are scoped to this cluster's name and id."
  acknowledge(policy, 'IAM5[Action::kafka-cluster:*Topic*]', reason)
  acknowledge(policy, `IAM5[Resource::${nagText(stack, topicArns)}]`, reason)
  acknowledge(policy, `IAM5[Resource::${nagText(stack, groupArns)}]`, reason)
}
