import {
  Button,
  Center,
  Code,
  Group,
  Image,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { api, type SignInStep } from '../api.js';
import { ErrorNote } from '../components.js';

/**
 * Password, then the authenticator app's code; on the first sign-in, enrolling the app. With a
 * passkey for this site, the passkey may stand in for the code.
 */
export function SignInPage() {
  const queryClient = useQueryClient();
  const [step, setStep] = useState<SignInStep | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const signIn = useMutation({ mutationFn: () => api.signIn(email, password), onSuccess: setStep });
  const confirm = useMutation({
    mutationFn: () => api.confirmCode(code.trim()),
    onSuccess: (session) => queryClient.setQueryData(['session'], session),
  });
  // Step one's options are good for one try: after it, ask for new ones.
  const [optionsSpent, setOptionsSpent] = useState(false);
  const passkey = useMutation({
    mutationFn: async () => {
      const offered = step?.stage === 'totp' && !optionsSpent ? step.passkey : undefined;
      const optionsJSON = offered ?? (await api.passkeySignInOptions());
      setOptionsSpent(true);
      // Only accounts with a passkey need the WebAuthn helpers: loaded on demand.
      const { startAuthentication } = await import('@simplewebauthn/browser');
      return api.confirmPasskey(await startAuthentication({ optionsJSON }));
    },
    onSuccess: (session) => queryClient.setQueryData(['session'], session),
  });
  const submit = (event: FormEvent, action: () => void) => {
    event.preventDefault();
    action();
  };

  return (
    <Center mih="100vh" bg="gray.0">
      <Paper withBorder shadow="sm" p="xl" w={420}>
        <Title order={3} mb="md">
          Warden console
        </Title>
        {step === null ? (
          <form onSubmit={(event) => submit(event, () => signIn.mutate())}>
            <Stack>
              <TextInput
                label="Email"
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(event) => setEmail(event.currentTarget.value)}
              />
              <PasswordInput
                label="Password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(event) => setPassword(event.currentTarget.value)}
              />
              {signIn.error && <ErrorNote error={signIn.error} title="Not signed in" />}
              <Button type="submit" loading={signIn.isPending}>
                Continue
              </Button>
            </Stack>
          </form>
        ) : (
          <form onSubmit={(event) => submit(event, () => confirm.mutate())}>
            <Stack>
              {step.stage === 'totp_enrollment' && <Enrollment secret={step.secret} uri={step.otpauth_uri} />}
              <TextInput
                label="Code from your authenticator app"
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                autoFocus
                value={code}
                onChange={(event) => setCode(event.currentTarget.value)}
              />
              {confirm.error && <ErrorNote error={confirm.error} title="Not signed in" />}
              {passkey.error && <ErrorNote error={passkey.error} title="Not signed in with the passkey" />}
              <Group grow>
                <Button type="submit" loading={confirm.isPending}>
                  Sign in
                </Button>
                {step.stage === 'totp' && step.passkey && (
                  <Button variant="light" loading={passkey.isPending} onClick={() => passkey.mutate()}>
                    Use a passkey
                  </Button>
                )}
              </Group>
            </Stack>
          </form>
        )}
      </Paper>
    </Center>
  );
}

/** The first sign-in: the secret for the app, as text and (when it can be drawn) a QR code. */
function Enrollment({ secret, uri }: { secret: string; uri: string }) {
  const [qr, setQr] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    // Only new accounts see this: the QR encoder is loaded on demand, not with the console.
    import('qrcode')
      .then((qrcode) => qrcode.toDataURL(uri, { margin: 1, width: 200 }))
      .then((url) => current && setQr(url))
      .catch(() => setQr(null));
    return () => {
      current = false;
    };
  }, [uri]);
  return (
    <Stack gap="xs">
      <Text size="sm">
        Add Warden to your authenticator app (Google Authenticator, 1Password, Authy, …): scan the code or
        type the secret, then enter the six digits it shows.
      </Text>
      {qr && <Image src={qr} alt="QR code of the authenticator secret" w={200} h={200} />}
      <Text size="sm" fw={500}>
        Secret
      </Text>
      <Code data-testid="totp-secret">{secret}</Code>
      <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
        {uri}
      </Text>
    </Stack>
  );
}
