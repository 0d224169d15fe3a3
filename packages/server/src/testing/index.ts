/**
 * Test helpers for `EventLog` implementers: `@unbroken/server/testing`. Needs vitest, an optional
 * peer dependency that only this entry imports.
 */
export type { EventLogContractLimits, EventLogContractOptions } from './event-log-contract'
export { describeEventLogContract } from './event-log-contract'
