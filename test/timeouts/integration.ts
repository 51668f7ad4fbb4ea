// testTimeout is a global jest option; per tier it is set here.
jest.setTimeout(30_000);
