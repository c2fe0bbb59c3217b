import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Traces a leaked clip to the playback session it was recorded from (see
 * app/services/watermark/forensic_tracer.ts), prints the verdict and
 * records it in the audit log. Exit code 0 when a session is named, 2 when
 * none matches, 1 when the clip is refused.
 */
export default class ForensicTrace extends BaseCommand {
  static commandName = 'forensic:trace'
  static description = 'Trace a leaked clip of a forensic video to the playback session it came from'
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'The leaked clip (a video file)' })
  declare file: string

  @flags.string({ description: 'Id of the video the clip is a copy of', required: true })
  declare video: string

  @flags.boolean({ description: 'Print the result as JSON' })
  declare json?: boolean

  async run() {
    const { traceLeak, TraceRefusedError } = await import('#services/watermark/forensic_tracer')
    const { default: leakTraces } = await import('#services/watermark/leak_trace_service')
    try {
      const result = await traceLeak(this.file, this.video)
      await leakTraces.recordVerdict(result, null, 'ace forensic:trace')
      if (this.json) {
        this.logger.log(JSON.stringify(result, null, 2))
      } else {
        this.logger.info(`The clip starts ${result.offsetSeconds.toFixed(1)} s into "${result.videoTitle}" (match ${result.alignment.toFixed(2)}), ${result.segments.length} segments read, ${result.sessionsScored} sessions scored`)
        if (result.named) this.logger.success(result.message)
        else this.logger.warning(result.message)
      }
      this.exitCode = result.named ? 0 : 2
    } catch (error) {
      if (!(error instanceof TraceRefusedError)) throw error
      this.logger.error(error.message)
      this.exitCode = 1
    }
  }
}
