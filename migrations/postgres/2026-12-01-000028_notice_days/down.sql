DROP TABLE notice_days;
