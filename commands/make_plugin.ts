import { isAbsolute } from 'node:path'
import { BaseCommand, args, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Writes a working plugin package (provider, options schema, tests, README)
 * to start a payment provider, a storage backend, a watermarker or a plugin
 * made of hooks, routes and settings. See docs/plugins.md.
 */
export default class MakePlugin extends BaseCommand {
  static commandName = 'make:plugin'
  static description = 'Create a plugin package (payment, storage, watermark or hooks) with its tests and README'
  static help = [
    'Writes plugins/<name>/ (or <dir>/<name>/ with --dir) and never overwrites anything:',
    '  {{ binaryName }} make:plugin acme-pay --kind payment',
    '  {{ binaryName }} make:plugin my-bucket --kind storage --dir ../my-plugins',
  ]
  // The app starts so the configured plugins are loaded: a new plugin may not reuse their names.
  static options: CommandOptions = { startApp: true }

  @args.string({ description: 'Plugin name: lowercase letters, digits and "-" (names its package, routes and settings)' })
  declare name: string

  @flags.string({ description: 'What it provides: payment, storage, watermark or hooks' })
  declare kind?: string

  @flags.string({ description: 'Folder the package is created in (default: plugins)' })
  declare dir?: string

  async run() {
    const { default: scaffold, displayPath } = await import('#services/plugin_scaffold_service')
    const { RefusedActionError } = await import('#exceptions/refused_action_error')
    const { PluginKernel } = await import('#hooks/plugin_kernel')
    const kernel = await this.app.container.make(PluginKernel)

    const parentDir = this.dir ? (isAbsolute(this.dir) ? this.dir : this.app.makePath(this.dir)) : this.app.makePath('plugins')
    const idsOf = (registry: { all(): Array<{ id: string }>; ownerOf(id: string): string | undefined }) =>
      new Map(registry.all().map((provider) => [provider.id, registry.ownerOf(provider.id)]))

    try {
      const plan = await scaffold.plan({
        name: this.name,
        kind: this.kind,
        parentDir,
        configured: kernel.plugins.map((plugin) => ({ name: plugin.name, source: plugin.source })),
        registeredIds: { payment: idsOf(kernel.payments), storage: idsOf(kernel.storage), watermark: idsOf(kernel.watermarks) },
      })
      const written = await scaffold.write(plan)
      for (const file of written) this.logger.action(`create ${displayPath(file)}`).succeeded()

      const folder = displayPath(plan.folder)
      this.logger.success(`Plugin "${plan.name}" (${plan.kind}) is in ${folder}`)
      this.logger.info(`Next: read ${folder}/README.md to enable it; its tests run with`)
      this.logger.info(`  NODE_ENV=test node ace test plugins --files ${folder}/tests/${plan.name}.spec.ts`)
    } catch (error) {
      if (!(error instanceof RefusedActionError)) throw error
      this.logger.error(error.message)
      this.exitCode = 1
    }
  }
}
