/*
| Validation messages as people read them, next to the field they concern.
*/
import vine, { SimpleMessagesProvider } from '@vinejs/vine'
import { accountFields } from '#validators/account'

vine.messagesProvider = new SimpleMessagesProvider(
  {
    'required': 'Enter your {{ field }}',
    'string': 'The {{ field }} must be text',
    'email': 'Enter a valid email address, like name@example.com',
    'minLength': 'The {{ field }} must be at least {{ min }} characters long',
    'maxLength': 'The {{ field }} must be at most {{ max }} characters long',
    'confirmed': 'The passwords do not match',
    'database.unique': 'This {{ field }} is already taken',
    'username.regex': 'Use only letters, digits and underscores',
  },
  accountFields
)
