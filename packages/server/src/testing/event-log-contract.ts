import { describe } from 'vitest'
import { describeBoundsContract } from './contract-bounds'
import { type CreateLog, type EventLogContractOptions, useContractKit } from './contract-kit'
import { describeStreamContract } from './contract-streams'
import { describeTailContract } from './contract-tail'

/**
 * Registers the shared `EventLog` contract as a vitest `describe` block. Every implementation
 * (memory, Redis, yours) runs these same tests; `createLog` is called once per test with the
 * limits that test needs, and the log is closed after the test.
 */
export function describeEventLogContract(
  name: string,
  createLog: CreateLog,
  options: EventLogContractOptions = {},
): void {
  describe(`EventLog contract: ${name}`, () => {
    const kit = useContractKit(createLog, options)
    describeStreamContract(kit)
    describeTailContract(kit)
    describeBoundsContract(kit)
  })
}
