import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Slack and Iqra stand-ins are real HTTP servers; give them room on a shared 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Run every test in a zone that is neither UTC nor the requester's, so that a time-zone bug cannot hide.
    env: { TZ: 'Pacific/Chatham' },
    // `default` for people; `json` so that .ci/run can print one plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
  },
});
