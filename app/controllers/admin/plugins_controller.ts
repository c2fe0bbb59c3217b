import type { HttpContext } from '@adonisjs/core/http'
import plugins from '#services/plugins'
import pluginSettings from '#services/plugin_settings_service'

/** Admin → Plugins: which run, how they are doing, and their settings. */
export default class AdminPluginsController {
  /** Which plugins run, and what their health probes say ("Stripe: no keys"). */
  async index({ view }: HttpContext) {
    return view.render('pages/admin/plugins', {
      plugins: await plugins.statuses(),
      payments: plugins.payments.all(),
      configurable: new Set(pluginSettings.configurable()),
    })
  }

  async settings({ view, params }: HttpContext) {
    const plugin = plugins.plugins.find((p) => p.name === params.name)
    return view.render('pages/admin/plugin_settings', { plugin, form: await pluginSettings.form(params.name) })
  }

  async updateSettings({ params, request, response, session, auth }: HttpContext) {
    const { changed } = await pluginSettings.update(auth.getUserOrFail(), params.name, request.body())
    session.flash('success', changed.length ? `Saved ${params.name} settings: ${changed.join(', ')} changed.` : 'Nothing changed.')
    return response.redirect().toPath(`/admin/plugins/${params.name}/settings`)
  }
}
