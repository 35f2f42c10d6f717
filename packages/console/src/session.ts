import { createContext, useContext } from 'react';
import type { Session } from './api.js';

/** The signed-in staff member; the pages under the router are only shown with one. */
export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
