import { Button, Card, Stack, Text } from '@mantine/core';
import { Link, useLocation } from 'react-router';

/** An unknown path under /crm. */
export function CrmNotFound() {
  const { pathname } = useLocation();
  return (
    <Card py="xl" data-testid="not-found">
      <Stack align="center" gap="sm">
        <Text>There is nothing at {pathname}.</Text>
        <Button component={Link} to="/crm" variant="default">
          Back to the pipeline
        </Button>
      </Stack>
    </Card>
  );
}
