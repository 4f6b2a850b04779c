DROP TABLE notification_readers;
DROP TABLE notification_spaces;
DROP TABLE notification_acks;
DROP TABLE notifications;
