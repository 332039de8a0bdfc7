import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Session } from './session';

export const SessionContext = createContext<Session | null>(null);

/** The session of the nearest <SessionContext.Provider>. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession() needs a <SessionContext.Provider> above it');
  return session;
}

/** Whether someone is signed in; re-renders when that changes (also from another tab). */
export function useSignedIn(): boolean {
  const session = useSession();
  return useSyncExternalStore(session.subscribe, () => session.signedIn);
}
