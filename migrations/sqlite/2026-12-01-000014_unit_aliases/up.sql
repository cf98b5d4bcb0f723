-- Other names a unit goes by (别名: 经开区管委会 for 经济技术开发区管委会), a JSON
-- array of strings like contact_emails; the task import matches them too.
ALTER TABLE units ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]';
