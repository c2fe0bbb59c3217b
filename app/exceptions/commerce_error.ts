import { RefusedActionError } from '#exceptions/refused_action_error'

/** A refused commerce action (checkout, refund, allowlist change). */
export class CommerceError extends RefusedActionError {}
