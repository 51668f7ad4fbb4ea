import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './libs/events/src/schema/index.ts',
  out: './libs/events/migrations',
});
