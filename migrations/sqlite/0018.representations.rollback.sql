DROP TABLE view_representations;
