import { clusterSeeds, parseClusterSeeds } from './cluster-seeds';

describe(parseClusterSeeds.name, () => {
  it('reads host:port seeds, IPv6 in brackets', () => {
    expect(parseClusterSeeds(' a:1 , [::1]:7002,')).toEqual([
      { host: 'a', port: 1 },
      { host: '::1', port: 7002 },
    ]);
  });

  it('reads URL seeds with TLS and credentials, which must agree', () => {
    expect(
      parseClusterSeeds('rediss://u:p%40ss@r0.example:7000,rediss://u:p%40ss@r1.example'),
    ).toEqual([
      { host: 'r0.example', port: 7000, tls: true, username: 'u', password: 'p@ss' },
      { host: 'r1.example', port: 6379, tls: true, username: 'u', password: 'p@ss' },
    ]);
    expect(parseClusterSeeds('redis://:secret@r0:7000')).toEqual([
      { host: 'r0', port: 7000, password: 'secret' },
    ]);
    expect(() => parseClusterSeeds('rediss://r0:7000,r1:7001')).toThrow(/same scheme/);
  });

  it.each([
    '',
    ' , ',
    'r0',
    'r0:port',
    'r0:0',
    'r0:70000',
    'r0:7000/x',
    'redis://r0:7000/2',
    'a b:1',
  ])('refuses %p, naming the bad entry', (value) => {
    expect(() => parseClusterSeeds(value)).toThrow(/host:port/);
  });
});

describe(clusterSeeds.name, () => {
  it('parses a value and refuses a bad one with the parser’s words', () => {
    expect(clusterSeeds().parse('r0:7000')).toEqual([{ host: 'r0', port: 7000 }]);
    expect(clusterSeeds().safeParse('r0').error?.issues[0].message).toBe(
      'must be host:port,host:port,… (bad entry "r0")',
    );
  });
});
