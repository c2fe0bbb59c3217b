import '@adonisjs/core/types/http'

type ParamValue = string | number | bigint | boolean

export type ScannedRoutes = {
  ALL: {
    'event_stream': { paramsTuple?: []; params?: {} }
    'subscribe': { paramsTuple?: []; params?: {} }
    'unsubscribe': { paramsTuple?: []; params?: {} }
    'home': { paramsTuple?: []; params?: {} }
    'videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'videos.poster': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'memberships.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'vendor.show': { paramsTuple: [ParamValue]; params: {'file': ParamValue} }
    'creators.show': { paramsTuple: [ParamValue]; params: {'username': ParamValue} }
    'creators.avatar': { paramsTuple: [ParamValue]; params: {'username': ParamValue} }
    'playback.open': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'playback.renew': { paramsTuple: [ParamValue]; params: {'session': ParamValue} }
    'playback.position': { paramsTuple: [ParamValue]; params: {'session': ParamValue} }
    'playback.destroy': { paramsTuple: [ParamValue]; params: {'session': ParamValue} }
    'play': { paramsTuple: [ParamValue,...ParamValue[]]; params: {'session': ParamValue,'*': ParamValue[]} }
    'health': { paramsTuple?: []; params?: {} }
    'api.videos.session': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'api.videos.sign_in': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'api.videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'display_currencies.update': { paramsTuple?: []; params?: {} }
    'register': { paramsTuple?: []; params?: {} }
    'registrations.store': { paramsTuple?: []; params?: {} }
    'login': { paramsTuple?: []; params?: {} }
    'sessions.store': { paramsTuple?: []; params?: {} }
    'password.forgot': { paramsTuple?: []; params?: {} }
    'password_resets.store': { paramsTuple?: []; params?: {} }
    'password.reset': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'password_resets.update': { paramsTuple?: []; params?: {} }
    'logout': { paramsTuple?: []; params?: {} }
    'account': { paramsTuple?: []; params?: {} }
    'accounts.update_password': { paramsTuple?: []; params?: {} }
    'accounts.update_profile': { paramsTuple?: []; params?: {} }
    'accounts.apply_for_creator': { paramsTuple?: []; params?: {} }
    'api_tokens.store': { paramsTuple?: []; params?: {} }
    'api_tokens.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkout': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkout.offer': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkouts.complete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkouts.cancel': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkouts.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'library': { paramsTuple?: []; params?: {} }
    'memberships.subscribe': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'library.memberships': { paramsTuple?: []; params?: {} }
    'library_memberships.cancel': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'library.receipt': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio': { paramsTuple?: []; params?: {} }
    'studio.videos': { paramsTuple?: []; params?: {} }
    'studio.videos.new': { paramsTuple?: []; params?: {} }
    'studio.videos.progress': { paramsTuple?: []; params?: {} }
    'studio.videos.check': { paramsTuple?: []; params?: {} }
    'studio.videos.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.unarchive': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.access': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'allowlists.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'allowlists.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'userId': ParamValue} }
    'studio.captions': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_captions.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_captions.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'language': ParamValue} }
    'studio_offers.save_rental': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_offers.remove_rental': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.offers': { paramsTuple?: []; params?: {} }
    'studio.membership': { paramsTuple?: []; params?: {} }
    'studio_memberships.save': { paramsTuple?: []; params?: {} }
    'studio_memberships.deactivate': { paramsTuple?: []; params?: {} }
    'studio.offers.new': { paramsTuple?: []; params?: {} }
    'studio_offers.store': { paramsTuple?: []; params?: {} }
    'studio.offers.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_offers.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_offers.deactivate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_offers.activate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.sales': { paramsTuple?: []; params?: {} }
    'studio_sales.refund': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_sales.retry_refund': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.sales.ledger': { paramsTuple?: []; params?: {} }
    'studio.coupons': { paramsTuple?: []; params?: {} }
    'studio.coupons.store': { paramsTuple?: []; params?: {} }
    'studio.coupons.deactivate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'admin.overview': { paramsTuple?: []; params?: {} }
    'admin.users': { paramsTuple?: []; params?: {} }
    'admin_users.role': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_users.ban': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_users.unban': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin.videos': { paramsTuple?: []; params?: {} }
    'admin_videos.watermark_default': { paramsTuple?: []; params?: {} }
    'admin_videos.takedown': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_videos.restore': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_videos.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_leak_traces.create': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_leak_traces.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_leak_traces.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin.jobs': { paramsTuple?: []; params?: {} }
    'admin_jobs.retry': { paramsTuple: [ParamValue,ParamValue]; params: {'queue': ParamValue,'id': ParamValue} }
    'admin_jobs.discard': { paramsTuple: [ParamValue,ParamValue]; params: {'queue': ParamValue,'id': ParamValue} }
    'admin.orders': { paramsTuple?: []; params?: {} }
    'admin.orders.ledger': { paramsTuple?: []; params?: {} }
    'admin.coupons': { paramsTuple?: []; params?: {} }
    'admin.coupons.store': { paramsTuple?: []; params?: {} }
    'admin.coupons.deactivate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin.allowlists': { paramsTuple?: []; params?: {} }
    'admin.audit': { paramsTuple?: []; params?: {} }
    'admin.plugins': { paramsTuple?: []; params?: {} }
    'admin.plugins.settings': { paramsTuple: [ParamValue]; params: {'name': ParamValue} }
    'admin.plugins.settings.update': { paramsTuple: [ParamValue]; params: {'name': ParamValue} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
    'creator_applications.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'creator_applications.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
  }
  POST: {
    'subscribe': { paramsTuple?: []; params?: {} }
    'unsubscribe': { paramsTuple?: []; params?: {} }
    'playback.open': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'playback.renew': { paramsTuple: [ParamValue]; params: {'session': ParamValue} }
    'playback.position': { paramsTuple: [ParamValue]; params: {'session': ParamValue} }
    'registrations.store': { paramsTuple?: []; params?: {} }
    'sessions.store': { paramsTuple?: []; params?: {} }
    'password_resets.store': { paramsTuple?: []; params?: {} }
    'password_resets.update': { paramsTuple?: []; params?: {} }
    'logout': { paramsTuple?: []; params?: {} }
    'accounts.update_password': { paramsTuple?: []; params?: {} }
    'accounts.update_profile': { paramsTuple?: []; params?: {} }
    'accounts.apply_for_creator': { paramsTuple?: []; params?: {} }
    'api_tokens.store': { paramsTuple?: []; params?: {} }
    'api_tokens.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkout': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkout.offer': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'memberships.subscribe': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'library_memberships.cancel': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.videos.check': { paramsTuple?: []; params?: {} }
    'studio_videos.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.unarchive': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'allowlists.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'allowlists.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'userId': ParamValue} }
    'studio_captions.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_captions.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'language': ParamValue} }
    'studio_offers.save_rental': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_offers.remove_rental': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_memberships.save': { paramsTuple?: []; params?: {} }
    'studio_memberships.deactivate': { paramsTuple?: []; params?: {} }
    'studio_offers.store': { paramsTuple?: []; params?: {} }
    'studio_offers.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_offers.deactivate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_offers.activate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_sales.refund': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_sales.retry_refund': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.coupons.store': { paramsTuple?: []; params?: {} }
    'studio.coupons.deactivate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'admin_users.role': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_users.ban': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_users.unban': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_videos.watermark_default': { paramsTuple?: []; params?: {} }
    'admin_videos.takedown': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_videos.restore': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_videos.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_leak_traces.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_jobs.retry': { paramsTuple: [ParamValue,ParamValue]; params: {'queue': ParamValue,'id': ParamValue} }
    'admin_jobs.discard': { paramsTuple: [ParamValue,ParamValue]; params: {'queue': ParamValue,'id': ParamValue} }
    'admin.coupons.store': { paramsTuple?: []; params?: {} }
    'admin.coupons.deactivate': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin.plugins.settings.update': { paramsTuple: [ParamValue]; params: {'name': ParamValue} }
    'creator_applications.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'creator_applications.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
  }
  GET: {
    'event_stream': { paramsTuple?: []; params?: {} }
    'home': { paramsTuple?: []; params?: {} }
    'videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'videos.poster': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'memberships.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'vendor.show': { paramsTuple: [ParamValue]; params: {'file': ParamValue} }
    'creators.show': { paramsTuple: [ParamValue]; params: {'username': ParamValue} }
    'creators.avatar': { paramsTuple: [ParamValue]; params: {'username': ParamValue} }
    'play': { paramsTuple: [ParamValue,...ParamValue[]]; params: {'session': ParamValue,'*': ParamValue[]} }
    'health': { paramsTuple?: []; params?: {} }
    'api.videos.session': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'api.videos.sign_in': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'api.videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'display_currencies.update': { paramsTuple?: []; params?: {} }
    'register': { paramsTuple?: []; params?: {} }
    'login': { paramsTuple?: []; params?: {} }
    'password.forgot': { paramsTuple?: []; params?: {} }
    'password.reset': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'account': { paramsTuple?: []; params?: {} }
    'checkouts.complete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkouts.cancel': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkouts.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'library': { paramsTuple?: []; params?: {} }
    'library.memberships': { paramsTuple?: []; params?: {} }
    'library.receipt': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio': { paramsTuple?: []; params?: {} }
    'studio.videos': { paramsTuple?: []; params?: {} }
    'studio.videos.new': { paramsTuple?: []; params?: {} }
    'studio.videos.progress': { paramsTuple?: []; params?: {} }
    'studio.videos.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.access': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.captions': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.offers': { paramsTuple?: []; params?: {} }
    'studio.membership': { paramsTuple?: []; params?: {} }
    'studio.offers.new': { paramsTuple?: []; params?: {} }
    'studio.offers.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.sales': { paramsTuple?: []; params?: {} }
    'studio.sales.ledger': { paramsTuple?: []; params?: {} }
    'studio.coupons': { paramsTuple?: []; params?: {} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'admin.overview': { paramsTuple?: []; params?: {} }
    'admin.users': { paramsTuple?: []; params?: {} }
    'admin.videos': { paramsTuple?: []; params?: {} }
    'admin_leak_traces.create': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_leak_traces.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin.jobs': { paramsTuple?: []; params?: {} }
    'admin.orders': { paramsTuple?: []; params?: {} }
    'admin.orders.ledger': { paramsTuple?: []; params?: {} }
    'admin.coupons': { paramsTuple?: []; params?: {} }
    'admin.allowlists': { paramsTuple?: []; params?: {} }
    'admin.audit': { paramsTuple?: []; params?: {} }
    'admin.plugins': { paramsTuple?: []; params?: {} }
    'admin.plugins.settings': { paramsTuple: [ParamValue]; params: {'name': ParamValue} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
  }
  HEAD: {
    'event_stream': { paramsTuple?: []; params?: {} }
    'home': { paramsTuple?: []; params?: {} }
    'videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'videos.poster': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'memberships.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'vendor.show': { paramsTuple: [ParamValue]; params: {'file': ParamValue} }
    'creators.show': { paramsTuple: [ParamValue]; params: {'username': ParamValue} }
    'creators.avatar': { paramsTuple: [ParamValue]; params: {'username': ParamValue} }
    'play': { paramsTuple: [ParamValue,...ParamValue[]]; params: {'session': ParamValue,'*': ParamValue[]} }
    'health': { paramsTuple?: []; params?: {} }
    'api.videos.session': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'api.videos.sign_in': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'api.videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'display_currencies.update': { paramsTuple?: []; params?: {} }
    'register': { paramsTuple?: []; params?: {} }
    'login': { paramsTuple?: []; params?: {} }
    'password.forgot': { paramsTuple?: []; params?: {} }
    'password.reset': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'account': { paramsTuple?: []; params?: {} }
    'checkouts.complete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkouts.cancel': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'checkouts.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'library': { paramsTuple?: []; params?: {} }
    'library.memberships': { paramsTuple?: []; params?: {} }
    'library.receipt': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio': { paramsTuple?: []; params?: {} }
    'studio.videos': { paramsTuple?: []; params?: {} }
    'studio.videos.new': { paramsTuple?: []; params?: {} }
    'studio.videos.progress': { paramsTuple?: []; params?: {} }
    'studio.videos.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.access': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.captions': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.offers': { paramsTuple?: []; params?: {} }
    'studio.membership': { paramsTuple?: []; params?: {} }
    'studio.offers.new': { paramsTuple?: []; params?: {} }
    'studio.offers.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.sales': { paramsTuple?: []; params?: {} }
    'studio.sales.ledger': { paramsTuple?: []; params?: {} }
    'studio.coupons': { paramsTuple?: []; params?: {} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'admin.overview': { paramsTuple?: []; params?: {} }
    'admin.users': { paramsTuple?: []; params?: {} }
    'admin.videos': { paramsTuple?: []; params?: {} }
    'admin_leak_traces.create': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin_leak_traces.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'admin.jobs': { paramsTuple?: []; params?: {} }
    'admin.orders': { paramsTuple?: []; params?: {} }
    'admin.orders.ledger': { paramsTuple?: []; params?: {} }
    'admin.coupons': { paramsTuple?: []; params?: {} }
    'admin.allowlists': { paramsTuple?: []; params?: {} }
    'admin.audit': { paramsTuple?: []; params?: {} }
    'admin.plugins': { paramsTuple?: []; params?: {} }
    'admin.plugins.settings': { paramsTuple: [ParamValue]; params: {'name': ParamValue} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
  }
  DELETE: {
    'playback.destroy': { paramsTuple: [ParamValue]; params: {'session': ParamValue} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
  }
  OPTIONS: {
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
  }
  PUT: {
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
  }
  PATCH: {
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
  }
}
declare module '@adonisjs/core/types/http' {
  export interface RoutesList extends ScannedRoutes {}
}