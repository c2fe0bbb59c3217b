import { lstat, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import app from '@adonisjs/core/services/app'
import { PLUGIN_NAME_PATTERN } from '#hooks/plugin_loader'
import { RefusedActionError } from '#exceptions/refused_action_error'

export const PLUGIN_KINDS = ['payment', 'storage', 'watermark', 'hooks'] as const
export type PluginKind = (typeof PLUGIN_KINDS)[number]
/** The kinds that register a provider (under the plugin's name). */
type ProviderKind = Exclude<PluginKind, 'hooks'>

export interface ScaffoldRequest {
  name: string
  kind: string | undefined
  /** Absolute folder the package folder is created in (plugins/ unless --dir says otherwise). */
  parentDir: string
  /** The plugins the instance runs now: a new plugin may not take one of their names. */
  configured: Array<{ name: string; source: string }>
  /** Provider ids already registered, by kind: the new plugin registers its provider under its own name. */
  registeredIds: Partial<Record<ProviderKind, Map<string, string | undefined>>>
}

export interface ScaffoldPlan {
  name: string
  kind: PluginKind
  folder: string
  files: Array<{ path: string; contents: string }>
}

/**
 * Where the templates live: one folder per kind, plus `common/` for what
 * every kind gets. A template's path is the generated file's path with
 * `.stub` appended (placeholders allowed in it too).
 *
 * They are not AdonisJS stubs on purpose: those are Tempura templates
 * compiled into a JavaScript template literal, so every backtick, `${` and
 * backslash of the TypeScript they hold would need escaping. These use plain
 * `{{ placeholder }}` substitution and nothing else (`@{{ ... }}` for a
 * literal Edge mustache), so a template reads as the code it produces.
 */
const STUBS_ROOT = app.makePath('commands/plugin_stubs')

/**
 * `node ace make:plugin`: checks the request, renders a plugin package from
 * the templates, and writes it into a folder that did not exist. A refused
 * request writes nothing.
 */
export class PluginScaffoldService {
  constructor(private stubsRoot = STUBS_ROOT) {}

  async plan(request: ScaffoldRequest): Promise<ScaffoldPlan> {
    const { name, parentDir } = request
    if (!PLUGIN_NAME_PATTERN.test(name)) {
      throw new RefusedActionError(
        'invalid_name',
        422,
        `"${name}" is not a plugin name: use lowercase letters, digits and "-", starting with a letter or digit (it names the plugin's package, routes and settings)`
      )
    }
    const kind = request.kind
    if (!kind) {
      throw new RefusedActionError('missing_kind', 422, `Say what the plugin provides with --kind ${PLUGIN_KINDS.join('|')}`)
    }
    if (!isKind(kind)) {
      throw new RefusedActionError('unknown_kind', 422, `Unknown kind "${kind}": use --kind ${PLUGIN_KINDS.join('|')}`)
    }
    const taken = request.configured.find((plugin) => plugin.name === name)
    if (taken) {
      throw new RefusedActionError('name_taken', 409, `A plugin named "${name}" is already configured (${taken.source}): choose another name`)
    }
    const ids = kind === 'hooks' ? undefined : request.registeredIds[kind]
    if (ids?.has(name)) {
      throw new RefusedActionError(
        'id_taken',
        409,
        `A ${PROVIDER_NOUNS[kind as ProviderKind]} with the id "${name}" is already registered by plugin "${ids.get(name)}": choose another name`
      )
    }
    const folder = join(parentDir, name)
    if (await exists(folder)) {
      throw new RefusedActionError('folder_exists', 409, `${displayPath(folder)} already exists: nothing was written (make:plugin never overwrites)`)
    }

    const values = await this.#placeholders(name, kind)
    const files: ScaffoldPlan['files'] = []
    for (const source of ['common', kind]) {
      const root = join(this.stubsRoot, source)
      for (const template of await listFiles(root)) {
        const path = render(relative(root, template).replace(/\.stub$/, ''), values, template)
        files.push({ path, contents: ensureFinalNewline(render(await readFile(template, 'utf8'), values, template)) })
      }
    }
    return { name, kind, folder, files: files.sort((a, b) => a.path.localeCompare(b.path)) }
  }

  /**
   * Creates the package folder (refusing one that appeared meanwhile) and
   * writes the files. On any failure the folder is removed again.
   */
  async write(plan: ScaffoldPlan): Promise<string[]> {
    await mkdir(dirname(plan.folder), { recursive: true })
    try {
      await mkdir(plan.folder)
    } catch (error: any) {
      if (error.code === 'EEXIST') {
        throw new RefusedActionError('folder_exists', 409, `${displayPath(plan.folder)} already exists: nothing was written (make:plugin never overwrites)`)
      }
      throw error
    }
    try {
      for (const file of plan.files) {
        const target = join(plan.folder, file.path)
        await mkdir(dirname(target), { recursive: true })
        await writeFile(target, file.contents, { flag: 'wx' })
      }
    } catch (error) {
      await rm(plan.folder, { recursive: true, force: true })
      throw error
    }
    return plan.files.map((file) => join(plan.folder, file.path))
  }

  async #placeholders(name: string, kind: PluginKind): Promise<Record<string, string>> {
    const words = name.split('-').filter(Boolean)
    const pascal = words.map((word) => word[0].toUpperCase() + word.slice(1)).join('')
    return {
      name,
      kind,
      description: DESCRIPTIONS[kind],
      packageName: `matinee-plugin-${name}`,
      // Class names cannot start with a digit ("3d-pay" → Plugin3dPay).
      className: /^[0-9]/.test(pascal) ? `Plugin${pascal}` : pascal,
      title: words.map((word) => word[0].toUpperCase() + word.slice(1)).join(' '),
      envPrefix: words.join('_').toUpperCase(),
      signatureHeader: `x-${name}-signature`,
      kitVersion: `^${await installedVersion('@matinee/plugin-kit')}`,
      vineVersion: `^${await installedVersion('@vinejs/vine')}`,
    }
  }
}

const DESCRIPTIONS: Record<PluginKind, string> = {
  payment: 'Matinee payment provider: hosted checkout, webhooks signed with a shared secret',
  storage: 'Matinee storage backend: media kept as files in a folder',
  watermark: "Matinee visible watermark: the viewer's name in a tag that moves",
  hooks: 'Matinee plugin: a notice for members, with its own page, setting and hooks',
}

const PROVIDER_NOUNS: Record<ProviderKind, string> = {
  payment: 'payment provider',
  storage: 'storage backend',
  watermark: 'watermarker',
}

function isKind(value: string): value is PluginKind {
  return (PLUGIN_KINDS as readonly string[]).includes(value)
}

/**
 * Replaces `{{ key }}`; a key the template names but nobody provides is a
 * bug in the template. `@{{ expression }}` (Edge's own escape) becomes a
 * literal `{{ expression }}`, for the Edge templates a plugin may hold.
 */
function render(template: string, values: Record<string, string>, file: string) {
  return template.replace(/(@?)\{\{\s*([^}]*?)\s*\}\}/g, (placeholder: string, escaped: string, key: string) => {
    if (escaped) return placeholder.slice(1)
    if (!(key in values)) throw new Error(`${file}: unknown placeholder ${placeholder}`)
    return values[key]
  })
}

function ensureFinalNewline(text: string) {
  return text.endsWith('\n') ? text : `${text}\n`
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}

/** Anything at the path counts (a file or a dangling link too): it is never replaced. */
async function exists(path: string) {
  try {
    await lstat(path)
    return true
  } catch (error: any) {
    if (error.code === 'ENOENT') return false
    throw error
  }
}

async function installedVersion(pkg: string) {
  const manifest = JSON.parse(await readFile(app.makePath('node_modules', pkg, 'package.json'), 'utf8'))
  return manifest.version as string
}

/** Paths in messages are relative to the project when they are inside it. */
export function displayPath(path: string) {
  const inside = relative(app.makePath(), path)
  return inside && !inside.startsWith('..') ? inside : path
}

export default new PluginScaffoldService()
