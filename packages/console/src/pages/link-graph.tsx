import { Group, Loader, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import cytoscape from 'cytoscape';
import { useEffect, useRef } from 'react';
import { api, type LinkGraph } from '../api.js';
import { ErrorNote, NotAvailable } from '../components.js';

/** Users by their fraud label; the identifiers that link them in neutral tones. */
const FRAUD_COLOR = { true: '#e03131', false: '#2f9e44', null: '#868e96' } as const;
const KIND_COLOR: Record<string, string> = {
  device: '#4c6ef5',
  card: '#f08c00',
  email: '#1098ad',
  phone: '#7048e8',
  ip: '#5c7cfa',
  address: '#a9a9a9',
  account_number: '#d6336c',
};

/** The users linked to this one through shared identifiers (GET /v1/users/{id}/graph). */
export function LinkGraphView({ userId }: { userId: string }) {
  const graph = useQuery({ queryKey: ['graph', userId], queryFn: () => api.userGraph(userId) });
  if (graph.error) return <ErrorNote error={graph.error} />;
  if (graph.isPending) return <Loader />;
  if (!graph.data) return <NotAvailable what="the link graph" />;
  return (
    <>
      <Graph graph={graph.data} />
      <Group gap="md" mt="xs">
        <Legend color={FRAUD_COLOR.true} label="user labelled fraud" />
        <Legend color={FRAUD_COLOR.false} label="user labelled legitimate" />
        <Legend color={FRAUD_COLOR.null} label="user not labelled" />
        <Text size="xs" c="dimmed">
          squares: shared identifiers; the thick ring is the user shown
        </Text>
      </Group>
    </>
  );
}

function Graph({ graph }: { graph: LinkGraph }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!container.current) return;
    const cy = cytoscape({
      container: container.current,
      elements: [
        ...graph.nodes.map((node) => ({
          data: {
            id: node.id,
            label: node.label,
            color: node.kind === 'user' ? FRAUD_COLOR[`${node.fraud}`] : (KIND_COLOR[node.kind] ?? '#adb5bd'),
            shape: node.kind === 'user' ? 'ellipse' : 'round-rectangle',
            border: node.center ? 4 : 0,
          },
        })),
        ...graph.edges.map((edge) => ({ data: { source: edge.from, target: edge.to } })),
      ],
      style: [
        {
          selector: 'node',
          style: {
            'background-color': 'data(color)',
            shape: 'data(shape)' as 'ellipse',
            label: 'data(label)',
            'font-size': 10,
            // Labels of close nodes overlap; a light backing keeps each readable.
            'text-background-color': '#ffffff',
            'text-background-opacity': 0.8,
            'text-background-padding': '1px',
            'border-width': 'data(border)',
            'border-color': '#212529',
          },
        },
        { selector: 'edge', style: { width: 1.5, 'line-color': '#ced4da' } },
      ],
      layout: { name: 'cose', animate: false, idealEdgeLength: () => 80, nodeRepulsion: () => 12_000 },
    });
    return () => cy.destroy();
  }, [graph]);
  return <div ref={container} data-testid="link-graph" style={{ height: 420, width: '100%' }} />;
}

function Legend({ color, label }: { color: string; label: string }) {
  return (
    <Group gap={4}>
      <div style={{ width: 10, height: 10, borderRadius: 5, background: color }} />
      <Text size="xs">{label}</Text>
    </Group>
  );
}
