DROP TABLE instructions;
