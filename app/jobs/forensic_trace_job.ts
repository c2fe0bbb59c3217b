import leakTraces from '#services/watermark/leak_trace_service'

/** Traces an uploaded leaked clip (Admin → Videos → Trace a leak). */
export default async function forensicTrace(data: { traceId: number }) {
  return leakTraces.run(data.traceId)
}
