/** RFC 3339 text of a timestamp as the database returns it (a Date, or text on some drivers). */
export const iso = (d: Date | string): string => new Date(d).toISOString();
