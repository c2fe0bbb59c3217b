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
    'vendor.show': { paramsTuple: [ParamValue]; params: {'file': ParamValue} }
    'health': { paramsTuple?: []; params?: {} }
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
    'accounts.apply_for_creator': { paramsTuple?: []; params?: {} }
    'studio': { paramsTuple?: []; params?: {} }
    'studio.videos': { paramsTuple?: []; params?: {} }
    'studio.videos.new': { paramsTuple?: []; params?: {} }
    'studio.videos.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'admin.videos': { paramsTuple?: []; params?: {} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
    'creator_applications.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'creator_applications.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
  }
  GET: {
    'event_stream': { paramsTuple?: []; params?: {} }
    'home': { paramsTuple?: []; params?: {} }
    'videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'videos.poster': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'vendor.show': { paramsTuple: [ParamValue]; params: {'file': ParamValue} }
    'health': { paramsTuple?: []; params?: {} }
    'register': { paramsTuple?: []; params?: {} }
    'login': { paramsTuple?: []; params?: {} }
    'password.forgot': { paramsTuple?: []; params?: {} }
    'password.reset': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'account': { paramsTuple?: []; params?: {} }
    'studio': { paramsTuple?: []; params?: {} }
    'studio.videos': { paramsTuple?: []; params?: {} }
    'studio.videos.new': { paramsTuple?: []; params?: {} }
    'studio.videos.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'admin.videos': { paramsTuple?: []; params?: {} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
  }
  HEAD: {
    'event_stream': { paramsTuple?: []; params?: {} }
    'home': { paramsTuple?: []; params?: {} }
    'videos.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'videos.poster': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'vendor.show': { paramsTuple: [ParamValue]; params: {'file': ParamValue} }
    'health': { paramsTuple?: []; params?: {} }
    'register': { paramsTuple?: []; params?: {} }
    'login': { paramsTuple?: []; params?: {} }
    'password.forgot': { paramsTuple?: []; params?: {} }
    'password.reset': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'account': { paramsTuple?: []; params?: {} }
    'studio': { paramsTuple?: []; params?: {} }
    'studio.videos': { paramsTuple?: []; params?: {} }
    'studio.videos.new': { paramsTuple?: []; params?: {} }
    'studio.videos.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'admin.videos': { paramsTuple?: []; params?: {} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
  }
  POST: {
    'subscribe': { paramsTuple?: []; params?: {} }
    'unsubscribe': { paramsTuple?: []; params?: {} }
    'registrations.store': { paramsTuple?: []; params?: {} }
    'sessions.store': { paramsTuple?: []; params?: {} }
    'password_resets.store': { paramsTuple?: []; params?: {} }
    'password_resets.update': { paramsTuple?: []; params?: {} }
    'logout': { paramsTuple?: []; params?: {} }
    'accounts.update_password': { paramsTuple?: []; params?: {} }
    'accounts.apply_for_creator': { paramsTuple?: []; params?: {} }
    'studio_videos.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio_videos.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'creator_applications.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'creator_applications.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
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
  DELETE: {
    'studio.uploads': { paramsTuple?: []; params?: {} }
    'studio.uploads.item': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
  }
}
declare module '@adonisjs/core/types/http' {
  export interface RoutesList extends ScannedRoutes {}
}