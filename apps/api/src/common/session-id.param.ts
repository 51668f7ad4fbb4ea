import { Param } from '@nestjs/common';
import { sessionIdSchema } from '../sessions/sessions.schemas';
import { ZodPipe } from './zod.pipe';

/** The `:id` route parameter, validated as a UUID (400 otherwise) and lower-cased. */
export const SessionId = () => Param('id', new ZodPipe(sessionIdSchema, 'session id'));
