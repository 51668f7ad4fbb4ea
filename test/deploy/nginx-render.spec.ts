import { readFileSync } from 'node:fs';
import { renderNginxForLoopback, SHIPPED_NGINX_CONF } from '../nginx';

const shipped = readFileSync(SHIPPED_NGINX_CONF, 'utf8');
const options = { upstreams: ['127.0.0.1:4001', '127.0.0.1:4002'], port: 4000, prefix: '/tmp/x' };
const REPLACED = /^\s*(resolver|server api:3000|listen 8080)\b/;

describe(renderNginxForLoopback.name, () => {
  const rendered = renderNginxForLoopback(shipped, options);

  it('changes only the Docker-specific lines, the port and the temp paths', () => {
    expect(rendered).not.toMatch(/^\s*resolver\b/m);
    expect(rendered).not.toContain('api:3000');
    expect(rendered).toMatch(/^\s*listen 127\.0\.0\.1:4000;$/m);
    expect(rendered).toMatch(/^\s*proxy_temp_path \/tmp\/x\/proxy_temp;$/m);
    // Every other line of the shipped file is there, in order.
    const kept = shipped.split('\n').filter((line) => !REPLACED.test(line));
    const lines = rendered.split('\n');
    let at = 0;
    for (const line of kept) {
      at = lines.indexOf(line, at);
      expect({ line, found: at >= 0 }).toEqual({ line, found: true });
    }
  });

  it('keeps every parameter of the server line except resolve, on each upstream', () => {
    const params = /server api:3000 resolve(.*);/.exec(shipped)![1];
    for (const upstream of options.upstreams) {
      expect(rendered).toContain(`server ${upstream}${params};`);
    }
  });

  it.each([
    ['no resolver line', (c: string) => c.replace(/^\s*resolver .*$/m, '')],
    ['two resolver lines', (c: string) => c.replace(/^(\s*resolver .*)$/m, '$1\n$1')],
    ['no api server line', (c: string) => c.replace('server api:3000', 'server web:3000')],
    ['no resolve parameter', (c: string) => c.replace('api:3000 resolve', 'api:3000')],
    ['no listen 8080', (c: string) => c.replace('listen 8080;', 'listen 80;')],
  ])('fails loudly on a file with %s', (_what, change) => {
    expect(() => renderNginxForLoopback(change(shipped), options)).toThrow(/nginx\.conf/);
  });
});
