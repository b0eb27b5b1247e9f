-- Notices check every minute for unread handoffs recorded since notices started. Only a few
-- kinds of activity can be a handoff, and a reply only when it is in one's own thread; without
-- these indexes each check read every unread activity row since then (for a reviewer whose
-- workspace synced 100,000 comments, 26 MB of pages a minute, kept in the page cache after).
CREATE INDEX activity_handoff_kinds ON activity (at)
    WHERE kind IN ('revision_delivered', 'question_asked', 'review_published', 'assigned', 'status_changed');
CREATE INDEX activity_replies_by_thread_author ON activity (json_extract(event, '$.thread_author'), at)
    WHERE kind = 'replied';
