import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'
import {
  checkoutThrottle,
  passwordResetThrottle,
  playbackOpenThrottle,
  registerFormThrottle,
  uploadCreateThrottle,
} from '#start/limiter'

const VideosController = () => import('#controllers/videos_controller')
const StudioVideosController = () => import('#controllers/studio_videos_controller')
const UploadsController = () => import('#controllers/uploads_controller')
const VendorController = () => import('#controllers/vendor_controller')
const CreatorsController = () => import('#controllers/creators_controller')
const HealthController = () => import('#controllers/health_controller')
const PlaybackController = () => import('#controllers/playback_controller')
const PlayController = () => import('#controllers/play_controller')
const RegistrationsController = () => import('#controllers/registrations_controller')
const SessionsController = () => import('#controllers/sessions_controller')
const PasswordResetsController = () => import('#controllers/password_resets_controller')
const AccountsController = () => import('#controllers/accounts_controller')
const CreatorApplicationsController = () => import('#controllers/admin/creator_applications_controller')
const AdminVideosController = () => import('#controllers/admin/videos_controller')
const AdminCommerceController = () => import('#controllers/admin/commerce_controller')
const AdminUsersController = () => import('#controllers/admin/users_controller')
const AdminJobsController = () => import('#controllers/admin/jobs_controller')
const AdminPluginsController = () => import('#controllers/admin/plugins_controller')
const AdminOverviewController = () => import('#controllers/admin/overview_controller')
const AdminLeakTracesController = () => import('#controllers/admin/leak_traces_controller')
const CheckoutsController = () => import('#controllers/checkouts_controller')
const DisplayCurrenciesController = () => import('#controllers/display_currencies_controller')
const LibraryController = () => import('#controllers/library_controller')
const MembershipsController = () => import('#controllers/memberships_controller')
const LibraryMembershipsController = () => import('#controllers/library_memberships_controller')
const StudioMembershipsController = () => import('#controllers/studio_memberships_controller')
const StudioSalesController = () => import('#controllers/studio_sales_controller')
const StudioCaptionsController = () => import('#controllers/studio_captions_controller')
const StudioOffersController = () => import('#controllers/studio_offers_controller')
const AllowlistsController = () => import('#controllers/allowlists_controller')
const ApiVideoSessionsController = () => import('#controllers/api/video_sessions_controller')
const ApiTokensController = () => import('#controllers/api_tokens_controller')

router.get('/', [VideosController, 'index']).as('home')
router.get('/videos/:id', [VideosController, 'show']).as('videos.show')
router.get('/videos/:id/poster', [VideosController, 'poster']).as('videos.poster')
router.get('/memberships/:id', [MembershipsController, 'show']).as('memberships.show')
router.get('/vendor/:file', [VendorController, 'show'])
// Creator pages: /@username and its avatar.
const creatorHandle = { match: /^@[A-Za-z0-9_]{1,30}$/, cast: (handle: string) => handle.slice(1) }
router.get('/:username', [CreatorsController, 'show']).where('username', creatorHandle).as('creators.show')
router.get('/:username/avatar', [CreatorsController, 'avatar']).where('username', creatorHandle).as('creators.avatar')

// Playback: sessions for the player (JSON), then signed playlists and segments.
router.post('/videos/:id/playback', [PlaybackController, 'store']).as('playback.open').use(playbackOpenThrottle)
router.post('/playback/:session/renew', [PlaybackController, 'renew'])
router.post('/playback/:session/position', [PlaybackController, 'position'])
router.delete('/playback/:session', [PlaybackController, 'destroy'])
router.get('/play/:session/*', [PlayController, 'show']).as('play').use(middleware.referrerPolicy({ policy: 'no-referrer' }))
router.get('/health', [HealthController, 'show']).as('health')

// The JSON API for scripts (personal API tokens; see app/controllers/api).
router
  .group(() => {
    router.get('/videos/:id/session', [ApiVideoSessionsController, 'show']).as('api.videos.session').use(playbackOpenThrottle)
    router.get('/videos/:id/sign-in', [ApiVideoSessionsController, 'challenge']).as('api.videos.sign_in').use(playbackOpenThrottle)
    router.get('/videos/:id', [ApiVideoSessionsController, 'video']).as('api.videos.show')
  })
  .prefix('/api/v1')
router.get('/currency', [DisplayCurrenciesController, 'update'])

router
  .group(() => {
    router.get('/register', [RegistrationsController, 'create']).as('register')
    router.post('/register', [RegistrationsController, 'store']).use(registerFormThrottle)
    router.get('/login', [SessionsController, 'create']).as('login')
    router.post('/login', [SessionsController, 'store'])
  })
  .use(middleware.guest())

router.get('/forgot-password', [PasswordResetsController, 'create']).as('password.forgot')
router.post('/forgot-password', [PasswordResetsController, 'store']).use(passwordResetThrottle)
router.get('/reset-password/:token', [PasswordResetsController, 'edit'])
  .as('password.reset')
  .use(middleware.referrerPolicy({ policy: 'no-referrer' }))
router.post('/reset-password', [PasswordResetsController, 'update']).use(passwordResetThrottle)

router
  .group(() => {
    router.post('/logout', [SessionsController, 'destroy']).as('logout')
    router.get('/account', [AccountsController, 'show']).as('account')
    router.post('/account/password', [AccountsController, 'updatePassword'])
    router.post('/account/profile', [AccountsController, 'updateProfile'])
    router.post('/account/creator-application', [AccountsController, 'applyForCreator'])
    router.post('/account/tokens', [ApiTokensController, 'store'])
    router.post('/account/tokens/:id/revoke', [ApiTokensController, 'destroy'])
    // Buying: the price is read from the database, never from the form.
    router.post('/videos/:id/checkout', [CheckoutsController, 'store']).as('checkout').use(checkoutThrottle)
    // An offer (a rental, a bundle, a pass) through any enabled provider: the price is the offer's.
    router.post('/offers/:id/checkout', [CheckoutsController, 'storeOffer']).as('checkout.offer').use(checkoutThrottle)
    router.get('/orders/:id/complete', [CheckoutsController, 'complete'])
    router.get('/orders/:id/cancel', [CheckoutsController, 'cancel'])
    router.get('/orders/:id/status', [CheckoutsController, 'status'])
    router.get('/library', [LibraryController, 'index']).as('library')
    // Memberships: subscribing (the price is the server's), the viewer's list and cancelling.
    router.post('/memberships/:id/subscribe', [MembershipsController, 'subscribe']).as('memberships.subscribe').use(checkoutThrottle)
    router.get('/library/memberships', [LibraryMembershipsController, 'index']).as('library.memberships')
    router.post('/library/memberships/:id/cancel', [LibraryMembershipsController, 'cancel']).where('id', router.matchers.number())
    router.get('/library/orders/:id', [LibraryController, 'receipt'])
  })
  .use(middleware.auth())

router
  .group(() => {
    router.on('/').redirectToPath('/studio/videos').as('studio')
    router.get('/videos', [StudioVideosController, 'index']).as('studio.videos')
    router.get('/videos/new', [StudioVideosController, 'create']).as('studio.videos.new')
    router.get('/videos/progress', [StudioVideosController, 'progress']).as('studio.videos.progress')
    router.post('/videos/check', [StudioVideosController, 'checkDetails']).as('studio.videos.check')
    router.get('/videos/:id/edit', [StudioVideosController, 'edit']).as('studio.videos.edit')
    router.post('/videos/:id', [StudioVideosController, 'update'])
    router.post('/videos/:id/delete', [StudioVideosController, 'destroy'])
    router.post('/videos/:id/unarchive', [StudioVideosController, 'unarchive'])
    router.post('/videos/:id/retry', [StudioVideosController, 'retry'])
    router.get('/videos/:id/access', [AllowlistsController, 'show']).as('studio.access')
    router.post('/videos/:id/access', [AllowlistsController, 'store'])
    router.post('/videos/:id/access/:userId/delete', [AllowlistsController, 'destroy']).where('userId', router.matchers.number())
    router.get('/videos/:id/captions', [StudioCaptionsController, 'index']).as('studio.captions')
    router.post('/videos/:id/captions', [StudioCaptionsController, 'store'])
    router.post('/videos/:id/captions/:language/delete', [StudioCaptionsController, 'destroy'])
    router.post('/videos/:id/rental', [StudioOffersController, 'saveRental'])
    router.post('/videos/:id/rental/delete', [StudioOffersController, 'removeRental'])
    router.get('/offers', [StudioOffersController, 'index']).as('studio.offers')
    router.get('/membership', [StudioMembershipsController, 'show']).as('studio.membership')
    router.post('/membership', [StudioMembershipsController, 'save'])
    router.post('/membership/deactivate', [StudioMembershipsController, 'deactivate'])
    router.get('/offers/new', [StudioOffersController, 'create']).as('studio.offers.new')
    router.post('/offers', [StudioOffersController, 'store'])
    router.get('/offers/:id/edit', [StudioOffersController, 'edit']).as('studio.offers.edit')
    router.post('/offers/:id', [StudioOffersController, 'update'])
    router.post('/offers/:id/deactivate', [StudioOffersController, 'deactivate'])
    router.post('/offers/:id/activate', [StudioOffersController, 'activate'])
    router.get('/sales', [StudioSalesController, 'index']).as('studio.sales')
    router.post('/orders/:id/refund', [StudioSalesController, 'refund'])
    router.post('/refunds/:id/retry', [StudioSalesController, 'retryRefund']).where('id', router.matchers.number())
    // tus resumable uploads: creation, PATCH chunks, HEAD offsets, DELETE.
    router.any('/uploads', [UploadsController, 'handle']).as('studio.uploads').use(uploadCreateThrottle)
    router.any('/uploads/*', [UploadsController, 'handle']).as('studio.uploads.item')
  })
  .prefix('/studio')
  .use([middleware.auth(), middleware.role({ roles: ['creator'] })])

router
  .group(() => {
    router.get('/', [AdminOverviewController, 'index']).as('admin.overview')
    router.get('/users', [AdminUsersController, 'index']).as('admin.users')
    router.post('/users/:id/role', [AdminUsersController, 'role']).where('id', router.matchers.number())
    router.post('/users/:id/ban', [AdminUsersController, 'ban']).where('id', router.matchers.number())
    router.post('/users/:id/unban', [AdminUsersController, 'unban']).where('id', router.matchers.number())
    router.get('/videos', [AdminVideosController, 'index']).as('admin.videos')
    router.post('/videos/watermark-default', [AdminVideosController, 'watermarkDefault'])
    router.post('/videos/:id/takedown', [AdminVideosController, 'takedown'])
    router.post('/videos/:id/restore', [AdminVideosController, 'restore'])
    router.post('/videos/:id/retry', [AdminVideosController, 'retry'])
    router.get('/videos/:id/trace', [AdminLeakTracesController, 'create'])
    router.post('/videos/:id/trace', [AdminLeakTracesController, 'store'])
    router.get('/traces/:id', [AdminLeakTracesController, 'show']).where('id', router.matchers.number())
    router.get('/jobs', [AdminJobsController, 'index']).as('admin.jobs')
    router.post('/jobs/:queue/:id/retry', [AdminJobsController, 'retry'])
    router.post('/jobs/:queue/:id/discard', [AdminJobsController, 'discard'])
    router.get('/orders', [AdminCommerceController, 'orders']).as('admin.orders')
    router.get('/allowlists', [AdminCommerceController, 'allowlists']).as('admin.allowlists')
    router.get('/audit', [AdminCommerceController, 'audit']).as('admin.audit')
    router.get('/plugins', [AdminPluginsController, 'index']).as('admin.plugins')
    router.get('/plugins/:name/settings', [AdminPluginsController, 'settings']).as('admin.plugins.settings')
    router.post('/plugins/:name/settings', [AdminPluginsController, 'updateSettings']).as('admin.plugins.settings.update')
    router.get('/creator-applications', [CreatorApplicationsController, 'index']).as('admin.creator_applications')
    router.post('/creator-applications/:id/approve', [CreatorApplicationsController, 'approve']).where('id', router.matchers.number())
    router.post('/creator-applications/:id/reject', [CreatorApplicationsController, 'reject']).where('id', router.matchers.number())
  })
  .prefix('/admin')
  .use([middleware.auth(), middleware.role({ roles: ['admin'] })])
