-- Run once, by the postgres image, when its data volume is empty (as POSTGRES_USER, who
-- therefore owns these). Each service has its own database so that no service can read or
-- migrate another's tables; keep this list in step with services.common.config.SERVICES.
CREATE DATABASE intake;
CREATE DATABASE mediation;
CREATE DATABASE rewards;
CREATE DATABASE notify;
