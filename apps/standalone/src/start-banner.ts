/** What `npm start` prints once it listens: where it runs and one command to try it. */
export function startBanner(options: { port: number; mode: string; authEnabled: boolean }): string {
  const base = `http://localhost:${options.port}`;
  const auth = options.authEnabled ? ` -H "authorization: Bearer $API_KEY"` : '';
  const json = `-H 'content-type: application/json'`;
  const curl =
    `S=$(curl -s -X POST ${base}/v1/sessions${auth} ${json} -d '{}' | ` +
    `sed 's/.*"id":"\\([^"]*\\)".*/\\1/') && ` +
    `curl -s -X POST ${base}/v1/sessions/$S/messages${auth} ${json} -d '{"content":"hello"}' && echo && ` +
    `curl -sN ${base}/v1/sessions/$S/stream${auth}`;
  return [
    '',
    `Sessionwire is running (${options.mode})`,
    `  API   ${base}`,
    `  Docs  ${base}/docs`,
    '',
    'Create a session, send a message and stream the reply (Ctrl-C ends the stream):',
    ...(options.authEnabled ? ['(auth is on: export API_KEY=<one of your API_KEYS> first)'] : []),
    `  ${curl}`,
    '',
  ].join('\n');
}
