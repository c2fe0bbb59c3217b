import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import AuditLog from '#models/audit_log'
import type { PluginAuditEntry } from '#hooks/define_plugin'

/**
 * One entry: who (null for the system: a webhook, a worker), what
 * ("allowlist.grant", "order.refund"...), to what, before and after. The
 * same shape plugins use through `api.audit`.
 */
export type AuditRecord = PluginAuditEntry

/** The audit log: every privileged change, who made it, when, before and after. */
export class AuditService {
  async record(entry: AuditRecord, trx?: TransactionClientContract) {
    await AuditLog.create(
      {
        actorId: entry.actor?.id ?? null,
        action: entry.action,
        subjectType: entry.subjectType,
        subjectId: entry.subjectId === undefined || entry.subjectId === null ? null : String(entry.subjectId),
        targetUserId: entry.targetUserId ?? null,
        before: entry.before ?? null,
        after: entry.after ?? null,
        summary: entry.summary.slice(0, 500),
      },
      { client: trx }
    )
  }

  /** Newest first; `search` matches the action, the summary or a username. */
  search(filters: { search?: string; action?: string; subjectId?: string; page?: number }) {
    const query = AuditLog.query().preload('actor').preload('targetUser').orderBy('id', 'desc')
    if (filters.action) query.where('action', filters.action)
    if (filters.subjectId) query.where('subjectId', filters.subjectId)
    if (filters.search) {
      const like = `%${filters.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      query.where((q) =>
        q
          .whereILike('summary', like)
          .orWhereILike('action', like)
          .orWhereHas('actor', (actor) => actor.whereILike('username', like))
          .orWhereHas('targetUser', (target) => target.whereILike('username', like))
      )
    }
    return query.paginate(filters.page ?? 1, 50)
  }
}

const audit = new AuditService()
export default audit
