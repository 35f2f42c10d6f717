import type { AttributeDefinition, AttributeSources, AttributeValue } from './catalogue.js';

/**
 * Attributes read from one source of an event (what enrichment found, what the device token
 * says): a definer whose attributes are missing, so rules comparing with them do not match, when
 * the event has no such source.
 */
export function attributesFrom<T>(source: (s: AttributeSources) => T | null | undefined) {
  return (
    name: string,
    type: AttributeDefinition['type'],
    description: string,
    example: AttributeValue,
    compute: (value: T, s: AttributeSources) => AttributeValue | null | undefined,
  ): AttributeDefinition => ({
    name,
    type,
    description,
    example,
    compute: (s) => {
      const value = source(s);
      return value ? compute(value, s) : undefined;
    },
  });
}
