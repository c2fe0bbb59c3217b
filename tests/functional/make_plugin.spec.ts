import { test } from '@japa/runner'
import { sparePort } from '#tests/helpers/private_services'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import env from '#start/env'
import { loadPlugins } from '#hooks/plugin_loader'
import { PluginKernel } from '#hooks/plugin_kernel'
import { isProcessAlive } from '#hooks/processes'
import type { Assert } from '@japa/assert'
import { runAce, type AceResult } from '#tests/helpers/processes'

/*
| The packages are generated where real ones live, in plugins/: japa's
| --files only narrows what a suite's globs already collect, and only the
| `plugins` suite collects a package's tests folder (a package made with
| --dir elsewhere has tests no suite runs). Their names carry this process's
| pid, so a run first removes what a crashed run left (its pid is gone, or
| is ours now) but never the folders of a run still going, and each group
| removes its own folders when it ends, whether its tests passed or not.
*/
const SCRATCH = /^make-plugin-test-(\d+)-/
const scratchName = (what: string) => `make-plugin-test-${process.pid}-${what}`
const scratchDirs = () => [app.makePath('plugins'), app.makePath('tmp')]

async function removeScratch(ofThisRunOnly: boolean) {
  for (const dir of scratchDirs()) {
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      const pid = Number(entry.match(SCRATCH)?.[1])
      if (!pid) continue
      if (ofThisRunOnly ? pid === process.pid : pid === process.pid || !isProcessAlive(pid)) {
        await rm(join(dir, entry), { recursive: true, force: true })
      }
    }
  }
}

const exists = (path: string) => stat(path).then(() => true, () => false)

const KINDS = ['payment', 'storage', 'watermark', 'hooks'] as const
type Kind = (typeof KINDS)[number]

/** Options each generated plugin boots with (the payment one in its sandbox). */
const BOOT_OPTIONS: Record<Kind, Record<string, unknown>> = {
  payment: { webhookSecret: 'a-secret-of-thirty-two-characters-or-more', sandbox: true },
  storage: { root: join(tmpdir(), scratchName('storage-root')) },
  watermark: {},
  hooks: {},
}

/**
 * What each generated spec file holds: the kit's contract suite (storage: 9
 * tests; payment: 12, its refund and subscription tests skipped since the
 * template has neither) plus the template's own tests. Changing a template's tests or a
 * contract suite changes these numbers, on purpose.
 */
const EXPECTED_TESTS: Record<Kind, { passed: number; skipped: number }> = {
  payment: { passed: 10 + 6, skipped: 2 },
  storage: { passed: 9 + 3, skipped: 0 },
  watermark: { passed: 5, skipped: 0 },
  hooks: { passed: 5, skipped: 0 },
}


/**
 * An environment of its own for the nested test run, so it never touches
 * this run's database, Redis keys, storage or ports: a database named after
 * ours, ending in _test (the test bootstrap refuses any other), another Redis
 * database and queue prefix, other folders and free ports.
 */
async function nestedEnvironment() {
  const port = await sparePort()
  return {
    DB_DATABASE: `${env.get('DB_DATABASE').replace(/_test$/, '')}_plugins_test`,
    REDIS_DB: String(((env.get('REDIS_DB') ?? 0) + 8) % 16),
    QUEUE_PREFIX: `${env.get('QUEUE_PREFIX', 'matinee')}-plugins`,
    PORT: String(port),
    APP_URL: `http://127.0.0.1:${port}`,
    SMTP_PORT: String(await sparePort()),
    STORAGE_LOCAL_ROOT: `${env.get('STORAGE_LOCAL_ROOT')}-plugins`,
    UPLOAD_TMP_DIR: `${env.get('UPLOAD_TMP_DIR')}-plugins`,
  }
}

/** The test:end lines of japa's ndjson reporter, counted per spec file. */
function countsPerFile(output: string) {
  const counts = new Map<string, { passed: number; failed: number; skipped: number }>()
  for (const line of output.split('\n')) {
    if (!line.startsWith('{"event":"test:end"')) continue
    const event = JSON.parse(line)
    const count = counts.get(event.relativePath) ?? { passed: 0, failed: 0, skipped: 0 }
    if (event.isSkipped) count.skipped++
    else if (event.isFailing) count.failed++
    else count.passed++
    counts.set(event.relativePath, count)
  }
  return counts
}

test.group('make:plugin', (group) => {
  const generated = new Map<Kind, AceResult>()

  group.setup(async () => {
    await removeScratch(false)
    await Promise.all(
      KINDS.map(async (kind) => generated.set(kind, await runAce(['make:plugin', scratchName(kind), '--kind', kind])))
    )
    return async () => {
      await removeScratch(true)
      await rm(BOOT_OPTIONS.storage.root as string, { recursive: true, force: true })
    }
  })

  test('writes a package of each kind that loads and registers as a plugin', async ({ assert }) => {
    for (const kind of KINDS) {
      const name = scratchName(kind)
      const { code, output } = generated.get(kind)!
      assert.equal(code, 0, output)
      assert.include(output, `Plugin "${name}" (${kind}) is in plugins/${name}`)
      assert.include(output, `node ace test plugins --files plugins/${name}/tests/${name}.spec.ts`)

      const folder = app.makePath('plugins', name)
      const manifest = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8'))
      assert.equal(manifest.name, `matinee-plugin-${name}`)
      assert.equal(manifest.version, '0.1.0')
      assert.equal(manifest.type, 'module')
      assert.deepEqual(manifest.exports, { '.': './src/plugin.js' })
      assert.sameMembers(Object.keys(manifest.peerDependencies), ['@matinee/plugin-kit', '@vinejs/vine'])
      for (const file of ['README.md', 'src/plugin.ts', `tests/${name}.spec.ts`]) {
        assert.isTrue(await exists(join(folder, file)), `${kind}: ${file}`)
      }
      assert.include(await readFile(join(folder, 'README.md'), 'utf8'), `node ace test plugins --files plugins/${name}/tests/${name}.spec.ts`)
    }

    const entries = KINDS.map((kind) => ({ source: `./plugins/${scratchName(kind)}`, options: BOOT_OPTIONS[kind] }))
    const loaded = await loadPlugins(entries, app.makePath())
    assert.deepEqual(
      loaded.map(({ plugin }) => [plugin.name, plugin.version]),
      KINDS.map((kind) => [scratchName(kind), '0.1.0'])
    )

    // Registered with the real kernel, each provides what its kind promises.
    const kernel = new PluginKernel({ logger, appRoot: app.makePath() })
    await kernel.boot(entries)
    assert.equal(kernel.payments.ownerOf(scratchName('payment')), scratchName('payment'))
    assert.equal(kernel.storage.ownerOf(scratchName('storage')), scratchName('storage'))
    assert.equal(kernel.watermarks.get(scratchName('watermark'))?.kind, 'visible')
    assert.isTrue(kernel.settings.has(scratchName('hooks')))
    assert.deepEqual(kernel.hooks.listeners().actions['video:ready'], [scratchName('hooks')])
    assert.deepEqual(kernel.hooks.listeners().filters['nav:items'], [scratchName('hooks')])
  }).timeout(60_000)

  test('the generated packages pass their own tests, all kinds in one run of the plugins suite', async ({ assert }) => {
    const isolated = await nestedEnvironment()
    const created = await runAce(['db:create'], isolated)
    assert.equal(created.code, 0, created.output)

    const files = KINDS.flatMap((kind) => ['--files', `plugins/${scratchName(kind)}/tests/${scratchName(kind)}.spec.ts`])
    const run = await runAce(['test', 'plugins', ...files, '--reporters', 'ndjson'], isolated, 150_000)
    assert.equal(run.code, 0, run.output)

    const counts = countsPerFile(run.output)
    for (const kind of KINDS) {
      const file = `plugins/${scratchName(kind)}/tests/${scratchName(kind)}.spec.ts`
      assert.deepEqual(counts.get(file), { ...EXPECTED_TESTS[kind], failed: 0 }, `${kind}: ${file}\n${run.output}`)
    }
    assert.equal(counts.size, KINDS.length, 'only the generated spec files ran')
  }).timeout(180_000)
})

test.group('make:plugin refusals', (group) => {
  group.setup(async () => {
    await removeScratch(false)
    return () => removeScratch(true)
  })

  /** make:plugin with these arguments must exit 1, saying `message`. */
  async function assertRefused(assert: Assert, args: string[], message: string) {
    const result = await runAce(['make:plugin', ...args])
    assert.equal(result.code, 1, result.output)
    assert.include(result.output, message)
  }

  test('an invalid name is refused and nothing is written', async ({ assert }) => {
    const names = ['Bank_Transfer', 'bank transfer', 'dots.in.name', 'ünicode']
    await Promise.all(
      names.map((name) => assertRefused(assert, [name, '--kind', 'hooks'], `"${name}" is not a plugin name: use lowercase letters, digits and "-"`))
    )
    for (const name of names) assert.isFalse(await exists(app.makePath('plugins', name)), name)
  }).timeout(60_000)

  test('a missing or unknown kind is refused and nothing is written', async ({ assert }) => {
    await assertRefused(assert, [scratchName('nokind')], 'Say what the plugin provides with --kind payment|storage|watermark|hooks')
    await assertRefused(assert, [scratchName('theme'), '--kind', 'theme'], 'Unknown kind "theme": use --kind payment|storage|watermark|hooks')
    assert.isFalse(await exists(app.makePath('plugins', scratchName('nokind'))))
    assert.isFalse(await exists(app.makePath('plugins', scratchName('theme'))))
  }).timeout(60_000)

  test('an existing folder is never overwritten', async ({ assert }) => {
    const folder = app.makePath('plugins', scratchName('taken'))
    await mkdir(folder, { recursive: true })
    await writeFile(join(folder, 'notes.txt'), 'my own work')
    await assertRefused(assert, [scratchName('taken'), '--kind', 'storage'], `plugins/${scratchName('taken')} already exists: nothing was written`)
    assert.deepEqual(await readdir(folder), ['notes.txt'])
    assert.equal(await readFile(join(folder, 'notes.txt'), 'utf8'), 'my own work')
  }).timeout(60_000)

  test('the name of a configured plugin, or the id of a registered provider, is refused', async ({ assert }) => {
    // Aimed at a folder of its own, so that an existing plugins/stripe is not what stops it.
    const elsewhere = `tmp/${scratchName('dir')}`
    await assertRefused(assert, ['stripe', '--kind', 'payment', '--dir', elsewhere], 'A plugin named "stripe" is already configured (./plugins/stripe)')
    await assertRefused(
      assert,
      ['local', '--kind', 'storage', '--dir', elsewhere],
      'A storage backend with the id "local" is already registered by plugin "storage-local"'
    )
    assert.isFalse(await exists(app.makePath(elsewhere)))
  }).timeout(60_000)

  test('--dir puts the package in another folder', async ({ assert }) => {
    const elsewhere = `tmp/${scratchName('dir')}`
    const result = await runAce(['make:plugin', scratchName('elsewhere'), '--kind', 'hooks', '--dir', elsewhere])
    assert.equal(result.code, 0, result.output)
    assert.isTrue(await exists(app.makePath(elsewhere, scratchName('elsewhere'), 'src/plugin.ts')))
    assert.isFalse(await exists(app.makePath('plugins', scratchName('elsewhere'))))
  }).timeout(60_000)
})
