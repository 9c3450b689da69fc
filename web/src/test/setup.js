import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';

// a shared 2-core machine under load: give findBy/waitFor room
configure({ asyncUtilTimeout: 5000 });
afterEach(() => cleanup());
