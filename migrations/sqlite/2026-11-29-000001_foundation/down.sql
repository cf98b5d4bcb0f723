DROP TABLE login_failures;
DROP TABLE users;
DROP TABLE units;
