import '@mantine/core/styles.css';
import { Badge, createTheme, MantineProvider } from '@mantine/core';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError } from './api.js';
import { App } from './app.js';

/** Any 401 means the session ended (idle, maximum age, an admin's change): back to sign-in. */
function signedOutOn(error: Error) {
  if (error instanceof ApiError && error.status === 401) queryClient.setQueryData(['session'], null);
}

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError: signedOutOn }),
  mutationCache: new MutationCache({ onError: signedOutOn }),
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      // A refusal (403, 404, 422) will not change on a second try.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

const theme = createTheme({
  primaryColor: 'indigo',
  // In a narrow table cell a badge would otherwise shrink to "DE…".
  components: { Badge: Badge.extend({ styles: { root: { minWidth: 'max-content' } } }) },
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
