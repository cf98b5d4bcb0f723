DROP TABLE accountability_records;
