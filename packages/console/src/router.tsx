import {
  createHashHistory,
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
} from '@tanstack/react-router';
import { Layout } from './layout.js';
import { AccountPage } from './pages/account.js';
import { AuditPage } from './pages/audit.js';
import { CasePage } from './pages/case.js';
import { DecisionPage, DecisionsPage, validateDecisionSearch } from './pages/decisions.js';
import { ListsPage } from './pages/lists.js';
import { QueuePage } from './pages/queue.js';
import { RulesPage } from './pages/rules.js';
import { UserPage, UsersPage, validateUserSearch } from './pages/users.js';
import { WebhooksPage } from './pages/webhooks.js';

// Hash history (/#/cases/case_…): the server serves only / and /assets/*, and a reload anywhere
// still asks it for /.
const root = createRootRoute({ component: Layout });
const routeTree = root.addChildren([
  createRoute({ getParentRoute: () => root, path: '/', component: QueuePage }),
  createRoute({ getParentRoute: () => root, path: '/cases/$caseId', component: CasePage }),
  // recharts is big and only the dashboard needs it: its own chunk, loaded on the first visit.
  createRoute({
    getParentRoute: () => root,
    path: '/dashboard',
    component: lazyRouteComponent(() => import('./pages/dashboard.js'), 'DashboardPage'),
  }),
  createRoute({
    getParentRoute: () => root,
    path: '/decisions',
    component: DecisionsPage,
    validateSearch: validateDecisionSearch,
  }),
  createRoute({ getParentRoute: () => root, path: '/decisions/$decisionId', component: DecisionPage }),
  createRoute({ getParentRoute: () => root, path: '/lists', component: ListsPage }),
  createRoute({
    getParentRoute: () => root,
    path: '/users',
    component: UsersPage,
    validateSearch: validateUserSearch,
  }),
  createRoute({ getParentRoute: () => root, path: '/users/$userId', component: UserPage }),
  createRoute({ getParentRoute: () => root, path: '/rules', component: RulesPage }),
  createRoute({ getParentRoute: () => root, path: '/audit', component: AuditPage }),
  createRoute({ getParentRoute: () => root, path: '/webhooks', component: WebhooksPage }),
  // Admins' pages: chunks of their own, which nobody else downloads.
  createRoute({
    getParentRoute: () => root,
    path: '/staff',
    component: lazyRouteComponent(() => import('./pages/staff.js'), 'StaffPage'),
  }),
  createRoute({
    getParentRoute: () => root,
    path: '/api-keys',
    component: lazyRouteComponent(() => import('./pages/api-keys.js'), 'ApiKeysPage'),
  }),
  createRoute({ getParentRoute: () => root, path: '/account', component: AccountPage }),
]);

export const router = createRouter({ routeTree, history: createHashHistory() });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
