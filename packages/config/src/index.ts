export {
  parseConfig,
  ConfigError,
  CONFIG_VARIABLES,
  DEV_JWT_SECRET,
  DEV_MAIL_SECRET,
  FAULT_POINTS,
  type FaultPoint,
  type Config,
} from './parse-config.ts';
