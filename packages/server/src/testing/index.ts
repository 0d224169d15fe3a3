/**
 * Test helpers for `EventLog` implementers: `@unbroken/server/testing`. Needs vitest, an optional
 * peer dependency that only this entry imports.
 */
export type { EventLogContractLimits, EventLogContractOptions } from './contract-kit'
export { describeEventLogContract } from './event-log-contract'
