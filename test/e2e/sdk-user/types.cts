// Type-checked (not run) against the installed package with moduleResolution nodenext, as CommonJS.
import { HttpError, Outbox, type ControlResult, type Session } from '@sessionwire/client';

async function end(outbox: Outbox): Promise<string> {
  const result: ControlResult<Session> = await outbox.end();
  if (result.ok) return result.value.state;
  return result.error instanceof HttpError ? String(result.error.status) : result.error.message;
}
void end;
