/*
| Validation messages as people read them, next to the field they concern.
| Validators compiled before this preload keep VineJS' defaults, so nothing
| here may import a validator.
*/
import vine, { SimpleMessagesProvider } from '@vinejs/vine'

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
    'title.required': 'Give the video a title',
    'title.minLength': 'Give the video a title',
    'enum': 'Choose one of the options for {{ field }}',
    'user.required': 'Enter a username or an email address',
    'file.size': 'The file must be smaller than {{ size }}',
    'file.extname': 'The file must be one of: {{ extnames }}',
  },
  {
    current_password: 'current password',
    password_confirmation: 'password confirmation',
  }
)
