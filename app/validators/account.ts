import vine from '@vinejs/vine'
import accountsConfig from '#config/accounts'
import { strongPassword } from '#validators/rules/strong_password'

const { password, username } = accountsConfig

// The strength check comes before the length: "password1" is refused for being
// a common password, which says more than "too short".
const newPassword = () =>
  vine.string().maxLength(password.maxLength).use(strongPassword()).minLength(password.minLength)

export const registerValidator = vine.create({
  username: vine
    .string()
    .trim()
    .minLength(username.minLength)
    .maxLength(username.maxLength)
    .regex(/^[A-Za-z0-9_]+$/)
    .unique({ table: 'users', column: 'username', caseInsensitive: true }),
  email: vine
    .string()
    .trim()
    .maxLength(254)
    .email()
    .toLowerCase()
    .unique({ table: 'users', column: 'email', caseInsensitive: true }),
  password: newPassword().confirmed({ confirmationField: 'password_confirmation' }),
})

export const loginValidator = vine.create({
  login: vine.string().trim().maxLength(254),
  password: vine.string().maxLength(password.maxLength),
})

export const forgotPasswordValidator = vine.create({
  email: vine.string().trim().maxLength(254).email().toLowerCase(),
})

export const resetPasswordValidator = vine.create({
  token: vine.string().trim().maxLength(200),
  password: newPassword().confirmed({ confirmationField: 'password_confirmation' }),
})

export const changePasswordValidator = vine.create({
  current_password: vine.string().maxLength(password.maxLength),
  password: newPassword().confirmed({ confirmationField: 'password_confirmation' }),
})
