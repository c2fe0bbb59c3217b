import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PluginView } from './contracts.js'

/** Raw output in Edge: `{{{ value }}}` and the escaped-braces form `@{{{`. */
const RAW_OUTPUT = /\{\{\{/

/**
 * Checks a plugin's folder of Edge templates before it is mounted: it must
 * exist and hold `.edge` files, none printing raw HTML (`{{{ }}}`), since the
 * core renders plugin views inside its pages and promises them escaped.
 * Returns the view names it holds (`<plugin>::<file without .edge>`).
 */
export function checkPluginViews(owner: string, folder: string | URL): { directory: string; views: string[] } {
  const directory = folder instanceof URL ? fileURLToPath(folder) : folder
  let files: string[]
  try {
    files = edgeFilesIn(directory)
  } catch (error) {
    throw new Error(`${owner}: its views folder ${directory} cannot be read: ${(error as Error).message}`)
  }
  if (!files.length) throw new Error(`${owner}: its views folder ${directory} holds no .edge template`)
  for (const file of files) {
    if (RAW_OUTPUT.test(readFileSync(file, 'utf8'))) {
      throw new Error(
        `${owner}: ${relative(directory, file)} prints raw HTML with {{{ }}}; plugin views print values with {{ }} (escaped) and hand the core views, never HTML`
      )
    }
  }
  return { directory, views: files.map((file) => `${owner}::${relative(directory, file).replace(/\.edge$/, '')}`) }
}

function edgeFilesIn(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name)
    if (statSync(path).isDirectory()) return edgeFilesIn(path)
    return name.endsWith('.edge') ? [path] : []
  })
}

/**
 * The view a provider handed the core, checked: it names one of the views
 * its own plugin mounted (a plugin never renders the core's templates or
 * another plugin's through the core), with plain data.
 */
export function checkedPluginView(owner: string, mounted: ReadonlySet<string>, view: PluginView, what: string): Required<PluginView> {
  if (!view || typeof view.view !== 'string') throw new Error(`${owner}: ${what} must return { view, data }, a view of the plugin`)
  if (!mounted.has(view.view)) {
    throw new Error(`${owner}: ${what} returned the view "${view.view}", which is not one the plugin mounted (${[...mounted].join(', ') || 'none'})`)
  }
  return { view: view.view, data: view.data ?? {} }
}
