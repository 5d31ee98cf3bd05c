export { createDashboard, type Dashboard, type DashboardDeps } from './create-dashboard.ts';
