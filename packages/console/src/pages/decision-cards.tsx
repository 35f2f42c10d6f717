import { Accordion, Badge, Card, Group, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, type FeatureValue } from '../api.js';
import { ActionBadge, ErrorNote, Heading, KeyValues, when } from '../components.js';

/** What was decided and why: the action, score and each reason (rules matched, the model's top contributions). */
export function DecisionCard({ decisionId }: { decisionId: string }) {
  const decision = useQuery({ queryKey: ['decision', decisionId], queryFn: () => api.decision(decisionId) });
  return (
    <Card withBorder>
      <Heading>Decision</Heading>
      {decision.error && <ErrorNote error={decision.error} />}
      {decision.data && (
        <Stack gap="xs">
          <Group gap="sm">
            <ActionBadge action={decision.data.action} />
            <Text>score {decision.data.score ?? 'not assessed'}</Text>
            <Text c="dimmed">({decision.data.risk_level})</Text>
            <Text c="dimmed" size="sm">
              {when(decision.data.created_at)} · ruleset {decision.data.ruleset_version ?? '—'} · model{' '}
              {decision.data.model_version ?? '—'}
            </Text>
          </Group>
          <Table>
            <Table.Tbody>
              {decision.data.reasons.map((reason) => (
                <Table.Tr key={`${reason.kind}:${reason.code}:${reason.rule_id ?? ''}`}>
                  <Table.Td>
                    <Badge variant="outline" size="sm">
                      {reason.kind}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {reason.code}
                      {reason.mode === 'shadow' ? ' (shadow)' : ''}
                    </Text>
                    <Text size="sm" c="dimmed">
                      {reason.description}
                    </Text>
                  </Table.Td>
                  <Table.Td>{reason.contribution?.toFixed(3) ?? reason.action ?? ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </Card>
  );
}

/** The snapshot the decision was made on, grouped by prefix (device.*, velocity.*, ip.*, …). */
export function FeaturesCard({ decisionId }: { decisionId: string }) {
  const features = useQuery({ queryKey: ['features', decisionId], queryFn: () => api.features(decisionId) });
  const groups = new Map<string, [string, FeatureValue][]>();
  for (const [name, value] of Object.entries(features.data?.features ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const prefix = name.split('.')[0] ?? name;
    groups.set(prefix, [...(groups.get(prefix) ?? []), [name, value]]);
  }
  return (
    <Card withBorder>
      <Heading>Features</Heading>
      {features.error && <ErrorNote error={features.error} />}
      <Accordion multiple variant="contained">
        {[...groups].map(([prefix, values]) => (
          <Accordion.Item key={prefix} value={prefix}>
            <Accordion.Control>
              {prefix}.*{' '}
              <Text span c="dimmed" size="sm">
                ({values.length})
              </Text>
            </Accordion.Control>
            <Accordion.Panel>
              <KeyValues values={Object.fromEntries(values)} />
            </Accordion.Panel>
          </Accordion.Item>
        ))}
      </Accordion>
    </Card>
  );
}
