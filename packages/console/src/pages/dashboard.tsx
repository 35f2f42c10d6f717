import { Card, Loader, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api, hasScope, type Stats } from '../api.js';
import { ErrorNote, Heading, NotAvailable } from '../components.js';
import { useSession } from '../session.js';

const DAYS = 30;
const ACTIONS = [
  { key: 'allow', color: '#40c057' },
  { key: 'challenge', color: '#fab005' },
  { key: 'review', color: '#fd7e14' },
  { key: 'block', color: '#fa5252' },
] as const;

/** The last 30 days' decisions by action, the score distribution and the queue now. */
export function DashboardPage() {
  const session = useSession();
  const allowed = hasScope(session, 'decisions:read');
  const stats = useQuery({ queryKey: ['stats', DAYS], queryFn: () => api.stats(DAYS), enabled: allowed });
  return (
    <Stack>
      <Title order={3}>Dashboard</Title>
      {!allowed && <Text>Your role cannot read decisions (decisions:read).</Text>}
      {stats.error && <ErrorNote error={stats.error} />}
      {allowed && stats.isPending && <Loader />}
      {stats.data === null && <NotAvailable what="statistics (GET /v1/stats)" />}
      {stats.data && <Charts stats={stats.data} />}
    </Stack>
  );
}

function Charts({ stats }: { stats: Stats }) {
  const queue = [
    ['Open', stats.queue.open],
    ['Claimed', stats.queue.claimed],
    ['Waiting for the shopper', stats.queue.waiting],
    ['Overdue', stats.queue.overdue],
  ] as const;
  const scores = stats.scores.map((bucket) => ({ ...bucket, range: `${bucket.from}–${bucket.to}` }));
  return (
    <>
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        {queue.map(([label, value]) => (
          <Paper key={label} withBorder p="md">
            <Text size="sm" c="dimmed">
              {label}
            </Text>
            <Text size="xl" fw={700} c={label === 'Overdue' && value > 0 ? 'red' : undefined}>
              {value}
            </Text>
          </Paper>
        ))}
      </SimpleGrid>
      <Card withBorder>
        <Heading>Decisions per day by action, and known frauds</Heading>
        <ResponsiveContainer width="100%" height={300}>
          <BarChart data={stats.days}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" fontSize={11} />
            <YAxis allowDecimals={false} fontSize={11} />
            <Tooltip />
            <Legend />
            {ACTIONS.map(({ key, color }) => (
              <Bar key={key} dataKey={key} stackId="actions" fill={color} isAnimationActive={false} />
            ))}
            <Bar dataKey="frauds" name="known frauds" fill="#343a40" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Card>
      <Card withBorder>
        <Heading>Scores</Heading>
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={scores}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="range" fontSize={11} />
            <YAxis allowDecimals={false} fontSize={11} />
            <Tooltip />
            <Bar dataKey="count" fill="#5c7cfa" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Card>
    </>
  );
}
