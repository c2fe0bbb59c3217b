import '@adonisjs/core/types/http'

type ParamValue = string | number | bigint | boolean

export type ScannedRoutes = {
  ALL: {
    'home': { paramsTuple?: []; params?: {} }
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
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
    'creator_applications.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'creator_applications.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
  }
  GET: {
    'home': { paramsTuple?: []; params?: {} }
    'health': { paramsTuple?: []; params?: {} }
    'register': { paramsTuple?: []; params?: {} }
    'login': { paramsTuple?: []; params?: {} }
    'password.forgot': { paramsTuple?: []; params?: {} }
    'password.reset': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'account': { paramsTuple?: []; params?: {} }
    'studio': { paramsTuple?: []; params?: {} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
  }
  HEAD: {
    'home': { paramsTuple?: []; params?: {} }
    'health': { paramsTuple?: []; params?: {} }
    'register': { paramsTuple?: []; params?: {} }
    'login': { paramsTuple?: []; params?: {} }
    'password.forgot': { paramsTuple?: []; params?: {} }
    'password.reset': { paramsTuple: [ParamValue]; params: {'token': ParamValue} }
    'account': { paramsTuple?: []; params?: {} }
    'studio': { paramsTuple?: []; params?: {} }
    'admin.creator_applications': { paramsTuple?: []; params?: {} }
  }
  POST: {
    'registrations.store': { paramsTuple?: []; params?: {} }
    'sessions.store': { paramsTuple?: []; params?: {} }
    'password_resets.store': { paramsTuple?: []; params?: {} }
    'password_resets.update': { paramsTuple?: []; params?: {} }
    'logout': { paramsTuple?: []; params?: {} }
    'accounts.update_password': { paramsTuple?: []; params?: {} }
    'accounts.apply_for_creator': { paramsTuple?: []; params?: {} }
    'creator_applications.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'creator_applications.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
  }
}
declare module '@adonisjs/core/types/http' {
  export interface RoutesList extends ScannedRoutes {}
}