import { randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { performance } from 'node:perf_hooks'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import User from '#models/user'
import { WebClient } from '#tests/helpers/web_client'
import { figure, smokeOr } from './helpers.js'
import { startProductionServer } from './fixtures.js'

const VIDEOS = smokeOr(1000, 20)
const ORDERS = smokeOr(10_000, 60)
const SESSIONS = smokeOr(10_000, 100)
const CREATORS = smokeOr(10, 2)
const BUYERS = smokeOr(200, 5)
const REQUESTS = smokeOr(100, 5)
const WARMUP = smokeOr(10, 1)
const PASSWORD = 'bench pages password'

/** The 95th percentile of some durations (nearest rank). */
function p95(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]
}

/**
 * The bulk rows, in a few INSERT ... SELECT statements (seconds, not
 * minutes): creators, buyers, published videos spread over the creators,
 * paid orders with their two ledger lines, and playback sessions. The
 * measured accounts are made through the model (real password hashes).
 */
async function seed(run: string) {
  const [creator, admin, viewer] = await Promise.all([
    User.create({ username: `pg_creator_${run}`, email: `pg_creator_${run}@bench.local`, password: PASSWORD, role: 'creator' }),
    User.create({ username: `pg_admin_${run}`, email: `pg_admin_${run}@bench.local`, password: PASSWORD, role: 'admin' }),
    User.create({ username: `pg_viewer_${run}`, email: `pg_viewer_${run}@bench.local`, password: PASSWORD, role: 'viewer' }),
  ])
  const hash = creator.password
  await db.rawQuery(
    `INSERT INTO users (username, email, password, role, created_at, updated_at)
     SELECT 'pg_' || ? || '_' || r || '_' || i, 'pg_' || ? || '_' || r || '_' || i || '@bench.local', ?, r, now(), now()
     FROM (VALUES ('creator', ?::int), ('viewer', ?::int)) AS roles(r, n), generate_series(1, roles.n) AS i`,
    [run, run, hash, CREATORS - 1, BUYERS]
  )
  const creatorIds = [creator.id, ...(await idsOf(`pg_${run}_creator_%`))]
  const buyerIds = [viewer.id, ...(await idsOf(`pg_${run}_viewer_%`))]
  // Videos: creator i owns every CREATORS-th; prices 0 (one in five), 1.99 to 9.99 USD, some EUR.
  await db.rawQuery(
    `INSERT INTO videos (id, owner_id, title, description, status, visibility, price_minor, currency, source_key, source_filename,
                         source_size, stored_bytes, duration_seconds, renditions, ready_at, created_at, updated_at)
     SELECT id, (?::int[])[1 + i % ?], 'Bench film ' || i, 'A film made for the pages bench, number ' || i || '.', 'ready', 'published',
            CASE WHEN i % 5 = 0 THEN 0 ELSE 199 + (i % 9) * 100 END, CASE WHEN i % 7 = 0 THEN 'EUR' ELSE 'USD' END,
            'videos/' || id || '/source/master.mp4', 'master.mp4', 1, 50000000 + i, 30 + i % 3000, '[]'::jsonb,
            now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval, now()
     FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, ?) AS i) AS s`,
    [creatorIds, creatorIds.length, VIDEOS]
  )
  // Paid orders of paid videos, spread over the buyers and the last 60 days, each with its two ledger lines.
  await db.rawQuery(
    `WITH paid_videos AS (SELECT id, owner_id, price_minor, currency, row_number() OVER (ORDER BY id) AS n FROM videos
                          WHERE owner_id = ANY(?::int[]) AND price_minor > 0),
          total AS (SELECT count(*) AS c FROM paid_videos),
          made AS (
            INSERT INTO orders (id, buyer_id, creator_id, video_id, provider, amount_minor, currency, platform_fee_bps, platform_fee_minor,
                                creator_payout, status, paid_at, expires_at, created_at, updated_at)
            SELECT gen_random_uuid(), (?::int[])[1 + i % ?], v.owner_id, v.id, 'stripe', v.price_minor, v.currency, 1000, v.price_minor / 10,
                   'owed', 'paid', now() - ((i % 60) || ' days')::interval, now(), now() - ((i % 60) || ' days')::interval, now()
            FROM generate_series(0, ? - 1) AS i, total JOIN paid_videos v ON true
            -- Buyer i mod B buys video i div B: a buyer never pays twice for one video.
            WHERE v.n = 1 + (i / ?) % total.c
            RETURNING id, creator_id, amount_minor, platform_fee_minor, currency, paid_at)
     INSERT INTO ledger_entries (order_id, kind, account, user_id, amount_minor, currency, created_at)
     SELECT id, 'payment', 'creator', creator_id, amount_minor - platform_fee_minor, currency, paid_at FROM made
     UNION ALL SELECT id, 'payment', 'platform', NULL, platform_fee_minor, currency, paid_at FROM made`,
    [creatorIds, buyerIds, buyerIds.length, ORDERS, buyerIds.length]
  )
  await db.rawQuery(
    `WITH bench_videos AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM videos WHERE owner_id = ANY(?::int[])),
          total AS (SELECT count(*) AS c FROM bench_videos)
     INSERT INTO playback_sessions (id, user_id, video_id, device_id, user_agent, watermarked, forensic, created_at, last_seen_at, expires_at)
     SELECT gen_random_uuid(), (?::int[])[1 + i % ?], v.id, 'bench', 'bench', false, false,
            now() - ((i % 30) || ' days')::interval, now() - ((i % 30) || ' days')::interval + interval '7 minutes', now() - ((i % 30) || ' days')::interval + interval '1 hour'
     FROM generate_series(1, ?) AS i, total JOIN bench_videos v ON true
     WHERE v.n = 1 + i % total.c`,
    [creatorIds, buyerIds, buyerIds.length, SESSIONS]
  )
  await db.rawQuery('ANALYZE')
  // The video page: one the viewer bought (the player is on it), by the measured creator.
  const owned = await db
    .from('orders as o')
    .join('videos as v', 'v.id', 'o.video_id')
    .where('o.buyer_id', viewer.id)
    .where('v.owner_id', creator.id)
    .select('v.id')
    .first()
  const videoId: string = owned?.id ?? (await db.from('videos').where('owner_id', creator.id).select('id').first()).id
  return { creator, admin, viewer, videoId }
}

async function idsOf(usernamePattern: string): Promise<number[]> {
  const rows = await db.from('users').where('username', 'like', usernamePattern).orderBy('id').select('id')
  return rows.map((row) => row.id)
}

async function loggedIn(username: string) {
  const client = new WebClient(env.get('APP_URL'))
  const response = await client.login(username, PASSWORD)
  if (response.status !== 302) throw new Error(`login of ${username} answered ${response.status}`)
  return client
}

async function measure(client: WebClient, path: string) {
  for (let i = 0; i < WARMUP; i++) await client.get(path)
  const durations: number[] = []
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now()
    const response = await client.get(path)
    durations.push(performance.now() - started)
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${response.text.slice(0, 200)}`)
  }
  return p95(durations)
}

/**
 * What a browser downloads for the video page, compressed (gzip): the HTML,
 * its stylesheets and scripts, and the modules those scripts import —
 * except hls.js, which only players of HLS need and which is counted apart.
 */
async function pageWeight(client: WebClient, path: string) {
  const page = await client.get(path)
  const base = new URL(path, env.get('APP_URL'))
  const assets = new Set<string>()
  for (const match of page.text.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)=["']([^"']+)["'][^>]*>/g)) {
    const tag = match[0]
    if (tag.startsWith('<link') && !/rel=["'](stylesheet|modulepreload)["']/.test(tag)) continue
    assets.add(new URL(match[1], base).href)
  }
  let bytes = gzipSync(page.text).length
  const seen = new Set<string>()
  const queue = [...assets]
  while (queue.length) {
    const url = queue.shift()!
    if (seen.has(url) || /hls(\.min)?\.m?js|\/vendor\/hls/.test(url) || new URL(url).origin !== base.origin) continue
    seen.add(url)
    const response = await client.get(new URL(url).pathname + new URL(url).search)
    if (response.status !== 200) continue
    bytes += gzipSync(response.text).length
    if (/\.m?js(\?|$)/.test(url)) {
      for (const imported of response.text.matchAll(/(?:import|from)\s*\(?\s*["'](\.{0,2}\/[^"']+)["']/g)) queue.push(new URL(imported[1], url).href)
    }
  }
  return { kb: bytes / 1024, files: seen.size }
}

/**
 * Page times with 1,000 videos, 10,000 paid orders (20,000 ledger lines)
 * and 10,000 playback sessions (smoke: 20 / 100 / 100), against the
 * production server: the 95th percentile of 100 sequential requests each
 * (after a warm-up) for the catalog, the video page, the studio and the
 * admin overview (target ≤ 150 ms), and the video page's weight (≤ 250 KB
 * compressed, hls.js apart).
 */
export default async function pagesBench() {
  const run = randomUUID().slice(0, 6)
  const seedStarted = performance.now()
  const { creator, admin, viewer, videoId } = await seed(run)
  console.error(`seeded ${VIDEOS} videos, ${ORDERS} orders and ${SESSIONS} sessions in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`)
  // Templates compiled once, as NODE_ENV=production does (the build runs with the test environment).
  const server = await startProductionServer({ VIEW_CACHE: 'true' })
  try {
    const [viewerClient, creatorClient, adminClient] = await Promise.all([loggedIn(viewer.username), loggedIn(creator.username), loggedIn(admin.username)])
    const pages: Array<[string, WebClient, string]> = [
      ['catalog', viewerClient, '/'],
      ['video', viewerClient, `/videos/${videoId}`],
      ['studio', creatorClient, '/studio/videos'],
      ['admin_overview', adminClient, '/admin'],
    ]
    for (const [name, client, path] of pages) figure(`page_ms_p95_${name}`, await measure(client, path), 'ms')
    const weight = await pageWeight(viewerClient, `/videos/${videoId}`)
    console.error(`video page: HTML and ${weight.files} assets`)
    figure('page_kb', weight.kb, 'KB')
  } finally {
    await server.stop()
  }
}
