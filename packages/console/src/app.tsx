import { Center, Loader } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { api } from './api.js';
import { ErrorNote } from './components.js';
import { SignInPage } from './pages/sign-in.js';
import { router } from './router.js';
import { SessionContext } from './session.js';

/** Signed out: the sign-in page. Signed in: the routed pages, with the session in context. */
export function App() {
  const session = useQuery({
    queryKey: ['session'],
    queryFn: api.session,
    staleTime: Number.POSITIVE_INFINITY,
  });
  if (session.isPending) {
    return (
      <Center h="100vh">
        <Loader />
      </Center>
    );
  }
  if (session.isError) return <ErrorNote error={session.error} />;
  if (!session.data) return <SignInPage />;
  return (
    <SessionContext.Provider value={session.data}>
      <RouterProvider router={router} />
    </SessionContext.Provider>
  );
}
