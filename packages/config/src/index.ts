export {
  parseConfig,
  ConfigError,
  CONFIG_VARIABLES,
  DEV_JWT_SECRET,
  type Config,
} from './parse-config.ts';
